// The WireGuard device's pure parts: keys, the UAPI text protocol, and the generic netlink
// messages of the kernel implementation (which cannot run on a kernel without WireGuard).
#include "service/wireguard/dns_query.hpp"
#include "service/wireguard/dns_resolver.hpp"
#include "service/wireguard/key.hpp"
#include "service/wireguard/netlink_device.hpp"
#include "service/wireguard/uapi_protocol.hpp"

#include <arpa/inet.h>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <gtest/gtest.h>
#include <linux/wireguard.h>
#include <netlink/attr.h>
#include <netlink/genl/genl.h>
#include <sys/socket.h>
#include <system_error>
#include <unistd.h>

namespace vpnsteer::wireguard {
namespace {

// A pair made by `wg genkey | tee private | wg pubkey`.
constexpr std::string_view privateBase64 = "SIgO7mCrWducMxASktbLIGUCPVJYoDVNjPTWR6WwSH0=";
constexpr std::string_view privateHex =
    "48880eee60ab59db9c33101292d6cb2065023d5258a0354d8cf4d647a5b0487d";
constexpr std::string_view publicBase64 = "7ndtbfb9rlRF4Cr14RN5pgnY2NIe9t/3xgArwKuZwSM=";
constexpr std::string_view publicHex =
    "ee776d6df6fdae5445e02af5e11379a609d8d8d21ef6dff7c6002bc0ab99c123";

WireguardKey key(std::string_view base64) {
    auto decoded = decodeBase64Key(base64);
    EXPECT_TRUE(decoded.has_value()) << base64;
    return decoded.value_or(WireguardKey());
}

TEST(WireguardKey, PublicKeyIsWhatWgPubkeyPrints) {
    EXPECT_EQ(toBase64(publicKeyOf(key(privateBase64))), publicBase64);
    EXPECT_EQ(toHex(key(privateBase64)), privateHex);
    EXPECT_EQ(decodeHexKey(publicHex), key(publicBase64));
}

TEST(WireguardKey, RefusesWhatWgRefuses) {
    EXPECT_FALSE(decodeBase64Key("SIgO7mCrWducMxASktbLIGUCPVJYoDVNjPTWR6WwSH0"));
    EXPECT_FALSE(decodeBase64Key("SIgO7mCrWducMxASktbLIGUCPVJYoDVNjPTWR6WwSH1="));
    EXPECT_FALSE(decodeHexKey("48880eee"));
}

TEST(IpEndpoint, ParsesAndPrintsBothFamilies) {
    auto v4 = IpEndpoint::parse("192.0.2.1:51820");
    ASSERT_TRUE(v4);
    EXPECT_EQ(v4->family, AF_INET);
    EXPECT_EQ(v4->port, 51820);
    EXPECT_EQ(v4->toString(), "192.0.2.1:51820");
    auto v6 = IpEndpoint::parse("[2001:db8::1]:1");
    ASSERT_TRUE(v6);
    EXPECT_EQ(v6->family, AF_INET6);
    EXPECT_EQ(v6->toString(), "[2001:db8::1]:1");
    EXPECT_FALSE(IpEndpoint::parse("2001:db8::1:1"));
    EXPECT_FALSE(IpEndpoint::parse("vpn.example:51820"));
    EXPECT_FALSE(IpEndpoint::parse("192.0.2.1:70000"));
}

PeerSettings peer() {
    return PeerSettings{.publicKey = key(publicBase64),
                        .endpoint = IpEndpoint::parse("198.51.100.1:51821"),
                        .presharedKey = std::nullopt,
                        .persistentKeepalive = 25};
}

TEST(UapiProtocol, EncodesAWholeConfiguration) {
    DeviceChange change;
    change.privateKey = key(privateBase64);
    change.firewallMark = 10001;
    change.listenPort = 0;
    change.replacePeer = peer();
    const std::string text = encodeUapiSet(change);
    EXPECT_EQ(text, "set=1\n"
                    "private_key=" +
                        std::string(privateHex) +
                        "\n"
                        "listen_port=0\n"
                        "fwmark=10001\n"
                        "replace_peers=true\n"
                        "public_key=" +
                        std::string(publicHex) +
                        "\n"
                        "preshared_key=" +
                        std::string(64, '0') +
                        "\n"
                        "endpoint=198.51.100.1:51821\n"
                        "persistent_keepalive_interval=25\n"
                        "replace_allowed_ips=true\n"
                        "allowed_ip=0.0.0.0/0\n"
                        "allowed_ip=::/0\n"
                        "\n");
}

TEST(UapiProtocol, EncodesAnEndpointUpdateOnly) {
    DeviceChange change;
    change.updateEndpoint =
        DeviceChange::EndpointUpdate{key(publicBase64), *IpEndpoint::parse("[2001:db8::7]:9")};
    EXPECT_EQ(encodeUapiSet(change), "set=1\npublic_key=" + std::string(publicHex) +
                                         "\nupdate_only=true\nendpoint=[2001:db8::7]:9\n\n");
}

TEST(UapiProtocol, ParsesWireguardGoAnswer) {
    const std::string text =
        "private_key=" + std::string(privateHex) +
        "\nlisten_port=40000\nfwmark=10002\npublic_key=" + std::string(publicHex) +
        "\npreshared_key=" + std::string(64, '0') +
        "\nprotocol_version=1\nendpoint=198.51.100.1:51821\n"
        "last_handshake_time_sec=1700000000\nlast_handshake_time_nsec=5\n"
        "tx_bytes=1234\nrx_bytes=5678\npersistent_keepalive_interval=0\n"
        "allowed_ip=0.0.0.0/0\nallowed_ip=::/0\nerrno=0\n\n";
    const UapiAnswer answer = parseUapiAnswer(text);
    EXPECT_EQ(answer.error, 0);
    ASSERT_TRUE(answer.status.publicKey);
    EXPECT_EQ(toBase64(*answer.status.publicKey), publicBase64);
    EXPECT_EQ(answer.status.listenPort, 40000);
    EXPECT_EQ(answer.status.firewallMark, 10002u);
    ASSERT_EQ(answer.status.peers.size(), 1u);
    const PeerStatus& peer = answer.status.peers.front();
    EXPECT_EQ(toBase64(peer.publicKey), publicBase64);
    ASSERT_TRUE(peer.endpoint);
    EXPECT_EQ(peer.endpoint->toString(), "198.51.100.1:51821");
    EXPECT_EQ(peer.latestHandshake, 1700000000u);
    EXPECT_EQ(peer.rxBytes, 5678u);
    EXPECT_EQ(peer.txBytes, 1234u);
}

TEST(UapiProtocol, ReportsErrnoAndTruncation) {
    EXPECT_EQ(parseUapiAnswer("errno=0\n\n").error, 0);
    EXPECT_EQ(parseUapiAnswer("errno=22\n\n").error, 22);
    EXPECT_EQ(parseUapiAnswer("listen_port=1\n").error, EPROTO);
    EXPECT_FALSE(parseUapiAnswer("errno=0\n\n").status.publicKey);
}

// The tests read the messages back the way the kernel's nla_policy would.
struct ParsedMessage {
    rules::NetlinkMessagePtr message{nlmsg_alloc()};
    nlattr* device[WGDEVICE_A_MAX + 1] = {};
    genlmsghdr* header = nullptr;

    void parse() {
        header = static_cast<genlmsghdr*>(nlmsg_data(nlmsg_hdr(message.get())));
        ASSERT_GE(genlmsg_parse(nlmsg_hdr(message.get()), 0, device, WGDEVICE_A_MAX, nullptr), 0);
    }
};

std::string keyBytes(const WireguardKey& key) {
    return std::string(key.bytes.begin(), key.bytes.end());
}

std::string bytes(const nlattr* attribute) {
    return std::string(static_cast<const char*>(nla_data(attribute)),
                       static_cast<std::size_t>(nla_len(attribute)));
}

TEST(WireguardNetlink, EncodesSetDeviceWithThePeer) {
    ParsedMessage parsed;
    PeerSettings settings = peer();
    settings.presharedKey = key(privateBase64);
    DeviceChange change;
    change.privateKey = key(privateBase64);
    change.firewallMark = 10001;
    change.listenPort = 51820;
    change.replacePeer = settings;
    encodeSetDevice(parsed.message.get(), 0x1d, "wg-us", change);
    parsed.parse();
    EXPECT_EQ(nlmsg_hdr(parsed.message.get())->nlmsg_type, 0x1d);
    EXPECT_EQ(parsed.header->cmd, WG_CMD_SET_DEVICE);
    EXPECT_EQ(parsed.header->version, WG_GENL_VERSION);
    EXPECT_STREQ(nla_get_string(parsed.device[WGDEVICE_A_IFNAME]), "wg-us");
    EXPECT_EQ(bytes(parsed.device[WGDEVICE_A_PRIVATE_KEY]), keyBytes(key(privateBase64)));
    EXPECT_EQ(nla_get_u32(parsed.device[WGDEVICE_A_FWMARK]), 10001u);
    EXPECT_EQ(nla_get_u16(parsed.device[WGDEVICE_A_LISTEN_PORT]), 51820);
    EXPECT_EQ(nla_get_u32(parsed.device[WGDEVICE_A_FLAGS]), WGDEVICE_F_REPLACE_PEERS);
    ASSERT_TRUE(parsed.device[WGDEVICE_A_PEERS]);
    EXPECT_TRUE(nla_type(parsed.device[WGDEVICE_A_PEERS]) == WGDEVICE_A_PEERS);

    std::vector<nlattr*> peers;
    nlattr* attribute = nullptr;
    int remaining = 0;
    nla_for_each_nested(attribute, parsed.device[WGDEVICE_A_PEERS], remaining) {
        peers.push_back(attribute);
    }
    ASSERT_EQ(peers.size(), 1u);
    nlattr* peerAttributes[WGPEER_A_MAX + 1] = {};
    ASSERT_GE(nla_parse_nested(peerAttributes, WGPEER_A_MAX, peers[0], nullptr), 0);
    EXPECT_EQ(bytes(peerAttributes[WGPEER_A_PUBLIC_KEY]), keyBytes(key(publicBase64)));
    EXPECT_EQ(nla_get_u32(peerAttributes[WGPEER_A_FLAGS]), WGPEER_F_REPLACE_ALLOWEDIPS);
    EXPECT_EQ(nla_len(peerAttributes[WGPEER_A_PRESHARED_KEY]), 32);
    EXPECT_EQ(nla_get_u16(peerAttributes[WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL]), 25);
    ASSERT_EQ(nla_len(peerAttributes[WGPEER_A_ENDPOINT]), static_cast<int>(sizeof(sockaddr_in)));
    sockaddr_in endpoint;
    std::memcpy(&endpoint, nla_data(peerAttributes[WGPEER_A_ENDPOINT]), sizeof endpoint);
    EXPECT_EQ(endpoint.sin_family, AF_INET);
    EXPECT_EQ(ntohs(endpoint.sin_port), 51821);
    char address[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &endpoint.sin_addr, address, sizeof address);
    EXPECT_STREQ(address, "198.51.100.1");

    std::vector<std::pair<int, int>> allowed; // family, prefix length
    nla_for_each_nested(attribute, peerAttributes[WGPEER_A_ALLOWEDIPS], remaining) {
        nlattr* ip[WGALLOWEDIP_A_MAX + 1] = {};
        ASSERT_GE(nla_parse_nested(ip, WGALLOWEDIP_A_MAX, attribute, nullptr), 0);
        const int family = nla_get_u16(ip[WGALLOWEDIP_A_FAMILY]);
        EXPECT_EQ(nla_len(ip[WGALLOWEDIP_A_IPADDR]), family == AF_INET ? 4 : 16);
        allowed.emplace_back(family, nla_get_u8(ip[WGALLOWEDIP_A_CIDR_MASK]));
    }
    EXPECT_EQ(allowed, (std::vector<std::pair<int, int>>{{AF_INET, 0}, {AF_INET6, 0}}));
}

TEST(WireguardNetlink, EncodesAnEndpointUpdateOnly) {
    ParsedMessage parsed;
    DeviceChange change;
    change.updateEndpoint =
        DeviceChange::EndpointUpdate{key(publicBase64), *IpEndpoint::parse("[2001:db8::7]:9")};
    encodeSetDevice(parsed.message.get(), 0x1d, "wg-us", change);
    parsed.parse();
    EXPECT_FALSE(parsed.device[WGDEVICE_A_FLAGS]) << "no REPLACE_PEERS for an update";
    EXPECT_FALSE(parsed.device[WGDEVICE_A_PRIVATE_KEY]);
    EXPECT_FALSE(parsed.device[WGDEVICE_A_FWMARK]);
    nlattr* attribute = nullptr;
    int remaining = 0;
    int count = 0;
    nla_for_each_nested(attribute, parsed.device[WGDEVICE_A_PEERS], remaining) {
        ++count;
        nlattr* peerAttributes[WGPEER_A_MAX + 1] = {};
        ASSERT_GE(nla_parse_nested(peerAttributes, WGPEER_A_MAX, attribute, nullptr), 0);
        EXPECT_EQ(nla_get_u32(peerAttributes[WGPEER_A_FLAGS]), WGPEER_F_UPDATE_ONLY);
        EXPECT_FALSE(peerAttributes[WGPEER_A_ALLOWEDIPS]);
        EXPECT_FALSE(peerAttributes[WGPEER_A_PRESHARED_KEY]) << "an update keeps the PSK";
        ASSERT_EQ(nla_len(peerAttributes[WGPEER_A_ENDPOINT]),
                  static_cast<int>(sizeof(sockaddr_in6)));
        sockaddr_in6 endpoint;
        std::memcpy(&endpoint, nla_data(peerAttributes[WGPEER_A_ENDPOINT]), sizeof endpoint);
        EXPECT_EQ(endpoint.sin6_family, AF_INET6);
        EXPECT_EQ(ntohs(endpoint.sin6_port), 9);
    }
    EXPECT_EQ(count, 1);
}

TEST(WireguardNetlink, EncodesGetDeviceAsADump) {
    ParsedMessage parsed;
    encodeGetDevice(parsed.message.get(), 0x1d, "wg-us");
    parsed.parse();
    EXPECT_EQ(parsed.header->cmd, WG_CMD_GET_DEVICE);
    EXPECT_TRUE(nlmsg_hdr(parsed.message.get())->nlmsg_flags & NLM_F_DUMP);
    EXPECT_STREQ(nla_get_string(parsed.device[WGDEVICE_A_IFNAME]), "wg-us");
}

// A GET_DEVICE answer as the kernel writes it (wireguard/netlink.c get_peer()).
void putAnswerPeer(nl_msg* message, const WireguardKey& peer, std::int64_t handshake) {
    nlattr* peers = nla_nest_start(message, WGDEVICE_A_PEERS | NLA_F_NESTED);
    nlattr* entry = nla_nest_start(message, 0 | NLA_F_NESTED);
    nla_put(message, WGPEER_A_PUBLIC_KEY, 32, peer.bytes.data());
    sockaddr_in endpoint{};
    endpoint.sin_family = AF_INET;
    endpoint.sin_port = htons(51821);
    inet_pton(AF_INET, "198.51.100.1", &endpoint.sin_addr);
    nla_put(message, WGPEER_A_ENDPOINT, sizeof endpoint, &endpoint);
    const std::int64_t time[2] = {handshake, 0};
    nla_put(message, WGPEER_A_LAST_HANDSHAKE_TIME, sizeof time, time);
    nla_put_u64(message, WGPEER_A_RX_BYTES, 5678);
    nla_put_u64(message, WGPEER_A_TX_BYTES, 1234);
    nla_nest_end(message, entry);
    nla_nest_end(message, peers);
}

TEST(WireguardNetlink, DecodesAndCoalescesGetDeviceAnswers) {
    rules::NetlinkMessagePtr first(nlmsg_alloc());
    genlmsg_put(first.get(), 0, 0, 0x1d, 0, NLM_F_MULTI, WG_CMD_GET_DEVICE, WG_GENL_VERSION);
    const WireguardKey devicePublic = publicKeyOf(key(privateBase64));
    nla_put(first.get(), WGDEVICE_A_PUBLIC_KEY, 32, devicePublic.bytes.data());
    nla_put_u16(first.get(), WGDEVICE_A_LISTEN_PORT, 40000);
    nla_put_u32(first.get(), WGDEVICE_A_FWMARK, 10001);
    putAnswerPeer(first.get(), key(publicBase64), 1700000000);
    // The second message continues the same peer (more allowed IPs), and must not count it
    // twice.
    rules::NetlinkMessagePtr second(nlmsg_alloc());
    genlmsg_put(second.get(), 0, 0, 0x1d, 0, NLM_F_MULTI, WG_CMD_GET_DEVICE, WG_GENL_VERSION);
    putAnswerPeer(second.get(), key(publicBase64), 1700000000);

    DeviceStatus status;
    decodeDeviceMessage(nlmsg_hdr(first.get()), status);
    decodeDeviceMessage(nlmsg_hdr(second.get()), status);
    ASSERT_TRUE(status.publicKey);
    EXPECT_EQ(*status.publicKey, devicePublic);
    EXPECT_EQ(status.listenPort, 40000);
    EXPECT_EQ(status.firewallMark, 10001u);
    ASSERT_EQ(status.peers.size(), 1u);
    EXPECT_EQ(status.peers[0].latestHandshake, 1700000000u);
    EXPECT_EQ(status.peers[0].rxBytes, 5678u);
    EXPECT_EQ(status.peers[0].txBytes, 1234u);
    ASSERT_TRUE(status.peers[0].endpoint);
    EXPECT_EQ(status.peers[0].endpoint->toString(), "198.51.100.1:51821");
    ASSERT_TRUE(status.findPeer(key(publicBase64)));
}

} // namespace
} // namespace vpnsteer::wireguard

namespace vpnsteer::wireguard {
namespace {

TEST(DnsQuery, EncodesARecursiveQuestion) {
    auto query = encodeDnsQuery(0x1234, "vpn.example.", dnsTypeAaaa);
    ASSERT_TRUE(query);
    const std::vector<std::uint8_t> expected = {0x12, 0x34, 0x01, 0x00, 0,   1,   0,  0,   0,   0,
                                                0,    0,    3,    'v',  'p', 'n', 7,  'e', 'x', 'a',
                                                'm',  'p',  'l',  'e',  0,   0,   28, 0,   1};
    EXPECT_EQ(*query, expected);
    EXPECT_FALSE(encodeDnsQuery(1, "a..b", dnsTypeA));
    EXPECT_FALSE(encodeDnsQuery(1, std::string(64, 'x') + ".example", dnsTypeA));
}

TEST(DnsQuery, ParsesAnswersWithCompressedNames) {
    std::vector<std::uint8_t> answer = *encodeDnsQuery(0x1234, "vpn.example", dnsTypeA);
    answer[2] = 0x81; // a response, recursion desired
    answer[3] = 0x80; // recursion available, no error
    answer[7] = 2;    // two answers: a CNAME and an A record
    const std::vector<std::uint8_t> records = {
        0xc0, 12, 0, 5, 0, 1, 0, 0, 0, 60, 0, 2, 0xc0, 12,            // CNAME (skipped)
        0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 198,  51, 100, 101}; // A 198.51.100.101
    answer.insert(answer.end(), records.begin(), records.end());
    auto parsed = parseDnsAnswer(answer.data(), answer.size());
    ASSERT_TRUE(parsed);
    EXPECT_EQ(parsed->id, 0x1234);
    EXPECT_EQ(parsed->rcode, 0);
    ASSERT_EQ(parsed->addresses.size(), 1u);
    EXPECT_EQ(parsed->addresses[0].family, AF_INET);
    EXPECT_EQ(IpEndpoint({AF_INET, parsed->addresses[0].address, 1}).toString(),
              "198.51.100.101:1");
    EXPECT_FALSE(parseDnsAnswer(answer.data(), answer.size() - 1)) << "cut short";
    answer[2] = 0x01;
    EXPECT_FALSE(parseDnsAnswer(answer.data(), answer.size())) << "a query, not an answer";
}

TEST(DnsServers, ResolvConfLeavesOutLoopback) {
    const auto servers = resolvConfServers("# comment\nnameserver 127.0.0.53\nnameserver ::1\n"
                                           "nameserver 192.0.2.1\noptions edns0\n"
                                           "nameserver 2001:db8::53\n");
    ASSERT_EQ(servers.size(), 2u);
    EXPECT_EQ(servers[0].text, "192.0.2.1");
    EXPECT_EQ(servers[1].text, "2001:db8::53");
}

TEST(DnsServers, ResolvConfWordsMayBeSeparatedByTabsAndTheLastLineNeedNoNewline) {
    const auto servers = resolvConfServers("  nameserver\t192.0.2.1  # ISP\r\nnameserver\n"
                                           "nameservers 192.0.2.9\n\tnameserver 192.0.2.2");
    ASSERT_EQ(servers.size(), 2u);
    EXPECT_EQ(servers[0].text, "192.0.2.1");
    EXPECT_EQ(servers[1].text, "192.0.2.2");
}

TEST(DnsServers, TheSpecFirstThenResolvedsUplinkThenResolvConf) {
    const std::string resolvConf = "nameserver 127.0.0.53\nnameserver 192.0.2.1\n";
    const std::vector<DnsServer> uplink = resolvConfServers("nameserver 203.0.113.53\n");
    WanSettings wan;
    auto texts = [](const std::vector<DnsServer>& servers) {
        std::vector<std::string> result;
        for (const DnsServer& server : servers)
            result.push_back(server.text);
        return result;
    };

    // Only a stub in resolv.conf and resolved knows the uplink: the uplink's servers.
    EXPECT_EQ(texts(chooseServers(wan, uplink, "nameserver 127.0.0.53\n")),
              std::vector<std::string>{"203.0.113.53"});
    EXPECT_EQ(texts(chooseServers(wan, uplink, resolvConf)),
              std::vector<std::string>{"203.0.113.53"});
    // Without resolved: resolv.conf's non-loopback servers.
    EXPECT_EQ(texts(chooseServers(wan, {}, resolvConf)), std::vector<std::string>{"192.0.2.1"});
    // The spec's servers win over both.
    wan.dnsServers.push_back(Endpoint{"198.51.100.53", 5353});
    EXPECT_EQ(texts(chooseServers(wan, uplink, resolvConf)),
              std::vector<std::string>{"198.51.100.53"});
}

TEST(KeyFile, ReadsTheKeyWithoutItsTrailingNewlineAndNamesAFileItCannotRead) {
    char folder[] = "/tmp/vpnsteer-key-XXXXXX";
    ASSERT_NE(::mkdtemp(folder), nullptr);
    const std::string path = std::string(folder) + "/client.key";
    {
        std::FILE* file = std::fopen(path.c_str(), "w");
        ASSERT_NE(file, nullptr);
        std::fputs("AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=\n", file);
        std::fclose(file);
    }
    EXPECT_EQ(toBase64(readKeyFile(path)), "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=");
    std::remove(path.c_str());
    try {
        readKeyFile(path);
        ADD_FAILURE() << "a missing key file was read";
    } catch (const std::system_error& error) {
        EXPECT_EQ(error.code().value(), ENOENT);
        EXPECT_NE(std::string(error.what()).find(path), std::string::npos) << error.what();
    }
    ::rmdir(folder);
}

} // namespace
} // namespace vpnsteer::wireguard
