// Unit tests of core/: parsing, validation and the derived numbers.
// The exact error texts are pinned by the invalid-spec corpus in tests/invalid/.
#include "core/spec.hpp"

#include <gtest/gtest.h>

using namespace vpnsteer;

namespace {

const char* const key1 = "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=";
const char* const key2 = "HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw=";

std::string oneVpn(const std::string& extra = "") {
    return R"({"version": 1, "vpns": {"us": {"id": 3, "endpoint": "vpn.example.net:51820",
        "publicKey": ")" +
           std::string(key1) + R"(", "addrV4": "198.51.100.2",
        "privateKeyFile": "/etc/vpnsteer/us.key")" +
           extra + "}}}";
}

std::vector<std::string> messages(const ParseResult& result) {
    std::vector<std::string> lines;
    for (const auto& error : result.errors)
        lines.push_back(error.toString());
    return lines;
}

} // namespace

TEST(Spec, DerivesEveryNumberFromTheId) {
    auto result = parseSpec(oneVpn());
    ASSERT_TRUE(result.ok()) << testing::PrintToString(messages(result));
    const Vpn& vpn = result.spec.vpns.at("us");
    EXPECT_EQ(vpn.firewallMark(), 10003u);
    EXPECT_EQ(vpn.routingTable(), 3u);
    EXPECT_EQ(vpn.mainRulePriority(), 103u);
    EXPECT_EQ(vpn.bridgeRulePriority(), 203u);
    EXPECT_EQ(vpn.systemWideRulePriority(), 303u);
    EXPECT_EQ(vpn.bridge, "br-us");
    EXPECT_EQ(vpn.bridgeAddressV4(), "10.20.3.1/24");
    EXPECT_EQ(vpn.bridgeSubnetV4(), "10.20.3.0/24");
    EXPECT_EQ(vpn.unitName(), "vpn-us.service");
}

TEST(Spec, AcceptsTheOriginalModuleFieldsAsTheSinglePeerForm) {
    auto result = parseSpec(oneVpn());
    ASSERT_TRUE(result.ok());
    const Vpn& vpn = result.spec.vpns.at("us");
    EXPECT_EQ(vpn.protocol, Protocol::wireguard);
    EXPECT_EQ(vpn.implementation, WireguardImplementation::automatic);
    ASSERT_EQ(vpn.peers.size(), 1u);
    EXPECT_EQ(vpn.peers[0].publicKey, key1);
    EXPECT_EQ(vpn.peers[0].endpoint.host, "vpn.example.net");
    EXPECT_EQ(vpn.peers[0].endpoint.port, 51820);
    ASSERT_TRUE(vpn.addrV4);
    EXPECT_EQ(vpn.addrV4->withPrefix(), "198.51.100.2/32");
    EXPECT_FALSE(vpn.addrV6);
    EXPECT_EQ(vpn.privateKeyFile, "/etc/vpnsteer/us.key");
    // The original module's default DNS servers.
    EXPECT_EQ(vpn.dns, (std::vector<std::string>{"46.227.67.134", "192.165.9.158"}));
}

TEST(Spec, ParsesThePeerListWithOptionalFields) {
    auto result = parseSpec(std::string(R"({"version": 1, "vpns": {"multi": {"id": 2,
        "addrV4": "198.51.100.3/32", "addrV6": "2001:db8:1::3/64", "dns": ["2001:db8::53"],
        "privateKeyFile": "/k", "implementation": "userspace", "peers": [
          {"name": "gw1", "publicKey": ")") +
                            key1 + R"(", "endpoint": "[2001:db8::10]:51820",
           "presharedKeyFile": "/psk", "persistentKeepalive": 25},
          {"publicKey": ")" +
                            key2 + R"(", "endpoint": "192.0.2.10:4500"}]}}})");
    ASSERT_TRUE(result.ok()) << testing::PrintToString(messages(result));
    const Vpn& vpn = result.spec.vpns.at("multi");
    EXPECT_EQ(vpn.implementation, WireguardImplementation::userspace);
    EXPECT_EQ(vpn.addrV6->withPrefix(), "2001:db8:1::3/64");
    ASSERT_EQ(vpn.peers.size(), 2u);
    EXPECT_EQ(vpn.peers[0].name, "gw1");
    EXPECT_EQ(vpn.peers[0].endpoint.toString(), "[2001:db8::10]:51820");
    EXPECT_EQ(vpn.peers[0].presharedKeyFile, "/psk");
    EXPECT_EQ(vpn.peers[0].persistentKeepalive, 25);
    EXPECT_EQ(vpn.peers[1].name, "peer1");
    EXPECT_EQ(vpn.peers[1].endpoint.toString(), "192.0.2.10:4500");
    EXPECT_FALSE(vpn.peers[1].persistentKeepalive);
    // Several peers: judged with the default failover settings.
    EXPECT_FALSE(vpn.failover);
    EXPECT_EQ(vpn.failoverInForce(), FailoverSettings{});
}

TEST(Spec, FailoverSettingsAreOptionalAndJudgeASinglePeerOnlyWhenGiven) {
    auto plain = parseSpec(oneVpn());
    ASSERT_TRUE(plain.ok());
    EXPECT_FALSE(plain.spec.vpns.at("us").failoverInForce()) << "one peer: nowhere to go";
    auto given = parseSpec(oneVpn(R"(, "failover": {"silenceTimeout": 20})"));
    ASSERT_TRUE(given.ok()) << testing::PrintToString(messages(given));
    const auto settings = given.spec.vpns.at("us").failoverInForce();
    ASSERT_TRUE(settings);
    EXPECT_EQ(settings->silenceTimeout, 20);
    EXPECT_EQ(settings->handshakeTimeout, 8);
    EXPECT_EQ(settings->probeInterval, 3);
}

TEST(Spec, ParsesFastd) {
    auto result = parseSpec(R"({"version": 1, "vpns": {"ff": {"id": 7, "protocol": "fastd",
        "addrV4": "10.20.250.2/24", "secretFile": "/etc/vpnsteer/ff.secret",
        "methods": ["null", "salsa2012+umac"], "mtu": 1312, "configurable": true,
        "transportMode": "performance",
        "peers": [{"name": "gw1", "key": "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                   "remotes": ["gw1.example.net:10000", "[2001:db8::1]:10000"]}]}}})");
    ASSERT_TRUE(result.ok()) << testing::PrintToString(messages(result));
    const Vpn& vpn = result.spec.vpns.at("ff");
    ASSERT_TRUE(vpn.fastd);
    EXPECT_EQ(vpn.fastd->methods, (std::vector<std::string>{"null", "salsa2012+umac"}));
    EXPECT_EQ(vpn.fastd->mtu, 1312);
    EXPECT_TRUE(vpn.fastd->configurable);
    EXPECT_EQ(vpn.fastd->transportMode, FastdTransportMode::performance);
    ASSERT_EQ(vpn.fastd->peers.size(), 1u);
    EXPECT_EQ(vpn.fastd->peers[0].remotes.size(), 2u);
    EXPECT_TRUE(vpn.peers.empty());
}

TEST(Spec, FastdMethodsFollowTheTransportModeWhenConfigurable) {
    FastdSettings fastd;
    fastd.methods = {"null+salsa2012+umac", "null", "salsa2012+umac"};
    using Methods = std::vector<std::string>;
    // Not configurable: the list as written, whatever the mode.
    EXPECT_EQ(fastdMethodsFor(fastd, FastdTransportMode::performance), fastd.methods);
    EXPECT_EQ(fastdMethodsFor(fastd, FastdTransportMode::secure), fastd.methods);
    fastd.configurable = true;
    EXPECT_EQ(fastdMethodsFor(fastd, FastdTransportMode::performance),
              (Methods{"null@l2tp", "null", "null+salsa2012+umac", "salsa2012+umac"}));
    EXPECT_EQ(fastdMethodsFor(fastd, FastdTransportMode::secure),
              (Methods{"null+salsa2012+umac", "salsa2012+umac"}));
}

TEST(Spec, WanDefaults) {
    auto result = parseSpec(R"({"version": 1})");
    ASSERT_TRUE(result.ok());
    EXPECT_EQ(result.spec.wan.mark, 10000u);
    ASSERT_EQ(result.spec.wan.dnsListen.size(), 2u);
    EXPECT_EQ(result.spec.wan.dnsListen[0].toString(), "127.0.0.1:54");
    EXPECT_EQ(result.spec.wan.dnsListen[1].toString(), "[::1]:54");
    EXPECT_TRUE(result.spec.wan.dnsServers.empty());
    EXPECT_TRUE(result.spec.vpns.empty());
    EXPECT_EQ(result.spec.defaultVpn(), nullptr);
}

TEST(Spec, WanServersTakePort53ByDefault) {
    auto result = parseSpec(
        R"({"version": 1, "wan": {"mark": 4242, "dns": {"servers": ["192.0.2.53", "[2001:db8::53]:5353"]}}})");
    ASSERT_TRUE(result.ok()) << testing::PrintToString(messages(result));
    EXPECT_EQ(result.spec.wan.mark, 4242u);
    ASSERT_EQ(result.spec.wan.dnsServers.size(), 2u);
    EXPECT_EQ(result.spec.wan.dnsServers[0].toString(), "192.0.2.53:53");
    EXPECT_EQ(result.spec.wan.dnsServers[1].toString(), "[2001:db8::53]:5353");
}

TEST(Spec, DefaultVpnIsTheLowestId) {
    auto spec = std::string(R"({"version": 1, "vpns": {)");
    for (auto [name, id] : {std::pair{"a", 5}, {"b", 2}, {"c", 9}})
        spec += std::string(name == std::string("a") ? "" : ",") + "\"" + name + R"(": {"id": )" +
                std::to_string(id) + R"(, "endpoint": "192.0.2.1:1", "publicKey": ")" + key1 +
                R"(", "addrV4": "198.51.100.1", "privateKeyFile": "/k"})";
    spec += "}}";
    auto result = parseSpec(spec);
    ASSERT_TRUE(result.ok()) << testing::PrintToString(messages(result));
    ASSERT_NE(result.spec.defaultVpn(), nullptr);
    EXPECT_EQ(result.spec.defaultVpn()->name, "b");
}

TEST(Spec, ReportsEveryErrorAtOnceAndKeepsTheValidVpns) {
    auto result = parseSpec(std::string(R"({"version": 1, "vpns": {
        "bad": {"id": 120, "endpoint": "nope", "publicKey": "short", "addrV4": "1.2.3",
                "privateKeyFile": "relative"},
        "good": {"id": 1, "endpoint": "192.0.2.1:51820", "publicKey": ")") +
                            key1 + R"(", "addrV4": "198.51.100.2", "privateKeyFile": "/k"}}})");
    EXPECT_EQ(messages(result),
              (std::vector<std::string>{
                  "vpns.bad.id: must be an integer 1..99, got 120",
                  "vpns.bad.endpoint: must include a port, as in host:51820, got \"nope\"",
                  "vpns.bad.publicKey: must be a WireGuard key (base64 of 32 bytes, 44 "
                  "characters), got \"short\"",
                  "vpns.bad.addrV4: must be an IPv4 address, got \"1.2.3\"",
                  "vpns.bad.privateKeyFile: must be an absolute path, got \"relative\"",
              }));
    EXPECT_EQ(result.invalidVpns, std::set<std::string>{"bad"});
    EXPECT_EQ(result.spec.vpns.size(), 1u);
    EXPECT_TRUE(result.spec.find("good"));
    EXPECT_FALSE(result.rejected);
}

TEST(Spec, TheFirstVpnInTheDocumentKeepsAContestedId) {
    auto vpn = [](const char* name, int id) {
        return "\"" + std::string(name) + R"(": {"id": )" + std::to_string(id) +
               R"(, "endpoint": "192.0.2.1:1", "publicKey": ")" + key1 +
               R"(", "addrV4": "198.51.100.1", "privateKeyFile": "/k"})";
    };
    auto result =
        parseSpec(R"({"version": 1, "vpns": {)" + vpn("zz", 4) + "," + vpn("aa", 4) + "}}");
    EXPECT_EQ(messages(result),
              std::vector<std::string>{"vpns.aa.id: 4 is already used by vpns.zz"});
    EXPECT_TRUE(result.spec.find("zz"));
    EXPECT_FALSE(result.spec.find("aa"));
    EXPECT_EQ(result.invalidVpns, std::set<std::string>{"aa"});
}

TEST(Spec, RejectsTheWholeDocumentOnlyWhenItIsUnusable) {
    for (const char* text : {"", "{", "[]", R"({"vpns": {}})", R"({"version": 2})"}) {
        auto result = parseSpec(text);
        EXPECT_TRUE(result.rejected) << text;
        EXPECT_EQ(result.errors.size(), 1u) << text;
    }
    auto result = parseSpec(R"({"version": 1, "bogus": 1})");
    EXPECT_FALSE(result.rejected);
    EXPECT_EQ(messages(result), std::vector<std::string>{"bogus: unknown field"});
}

TEST(Spec, WireguardKeysMustBeCanonicalBase64Of32Bytes) {
    EXPECT_TRUE(isValidWireguardKey(key1));
    EXPECT_TRUE(isValidWireguardKey("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="));
    EXPECT_FALSE(isValidWireguardKey("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB="))
        << "non-zero padding bits";
    EXPECT_FALSE(isValidWireguardKey("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
    EXPECT_FALSE(isValidWireguardKey("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=="));
    EXPECT_FALSE(isValidWireguardKey("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA-A="));
}

TEST(Spec, InterfaceNames) {
    EXPECT_TRUE(isValidInterfaceName("us"));
    EXPECT_TRUE(isValidInterfaceName("wg-home.2_x"));
    EXPECT_TRUE(isValidInterfaceName("abcdefghijklmno"));
    EXPECT_FALSE(isValidInterfaceName("abcdefghijklmnop"));
    EXPECT_FALSE(isValidInterfaceName(""));
    EXPECT_FALSE(isValidInterfaceName("-x"));
    EXPECT_FALSE(isValidInterfaceName("a/b"));
    EXPECT_FALSE(isValidInterfaceName("a b"));
    EXPECT_FALSE(isValidInterfaceName("all"));
}

TEST(Spec, OwnedFileNamesDependOnlyOnTheVpnName) {
    EXPECT_EQ(filenames::tunnelNetdev("us"), "60-vpnsteer-us.netdev");
    EXPECT_EQ(filenames::tunnelNetwork("us"), "60-vpnsteer-us.network");
    EXPECT_EQ(filenames::bridgeNetdev("us"), "61-vpnsteer-us-bridge.netdev");
    EXPECT_EQ(filenames::bridgeNetwork("us"), "61-vpnsteer-us-bridge.network");
    EXPECT_TRUE(filenames::isOwned("60-vpnsteer-us.network"));
    EXPECT_FALSE(filenames::isOwned("50-wired.network"));
    EXPECT_FALSE(filenames::isOwned("60-vpnsteer-us.conf"));
}

TEST(Spec, SameInputSameModel) {
    EXPECT_EQ(parseSpec(oneVpn()).spec.vpns, parseSpec(oneVpn()).spec.vpns);
}

TEST(Spec, AnErrorIsInTheSectionItsPathStartsWith) {
    EXPECT_TRUE((SpecError{"wan", "must be an object"}).isIn("wan"));
    EXPECT_TRUE((SpecError{"wan.dns.listen[0]", "bad"}).isIn("wan"));
    EXPECT_FALSE((SpecError{"wanted", "unknown field"}).isIn("wan"));
    EXPECT_FALSE((SpecError{"vpns.wan.id", "bad"}).isIn("wan"));
}
