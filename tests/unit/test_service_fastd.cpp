// service/fastd: the status document, and FastdTunnels against fakes of fastd's socket, the
// service manager and the mode store.
#include "service/fastd/status.hpp"
#include "service/fastd/tunnels.hpp"

#include <gtest/gtest.h>
#include <map>
#include <stdexcept>
#include <system_error>

using namespace vpnsteer;
using namespace vpnsteer::fastd;

namespace {

// What fastd 22 wrote on a client's status socket in the lab (one connected peer).
constexpr const char* connectedStatus = R"({ "uptime": 4297, "statistics": {
  "rx": { "packets": 3, "bytes": 300 }, "rx_reordered": { "packets": 0, "bytes": 0 },
  "tx": { "packets": 4, "bytes": 480 }, "tx_dropped": { "packets": 0, "bytes": 0 },
  "tx_error": { "packets": 0, "bytes": 0 } }, "peers": {
  "da3bf6d846d1b57f141cc21eb20d1a93b00520678151d545e2861fcec619fae0": { "name": "gw",
    "address": "192.0.2.2:10000", "interface": "fa", "connection": { "established": 4196,
    "method": "salsa2012+umac", "statistics": {} } } } })";

constexpr const char* unconnectedStatus = R"({ "uptime": 10, "statistics": {}, "peers": {
  "00": { "name": "gw", "address": null, "connection": null } } })";

TEST(FastdStatus, ReadsTheConnectedPeer) {
    const FastdStatus status = parseStatus(connectedStatus);
    EXPECT_EQ(status.connectedPeer, "gw");
    EXPECT_EQ(status.address, "192.0.2.2:10000");
    EXPECT_EQ(status.method, "salsa2012+umac");
    EXPECT_EQ(status.establishedMilliseconds, 4196u);
    EXPECT_EQ(status.rxBytes, 300u);
    EXPECT_EQ(status.txBytes, 480u);
}

TEST(FastdStatus, NoConnectionIsNoPeer) {
    const FastdStatus status = parseStatus(unconnectedStatus);
    EXPECT_EQ(status.connectedPeer, "");
    EXPECT_EQ(status.method, "");
}

TEST(FastdStatus, RefusesWhatIsNotAStatus) {
    EXPECT_THROW(parseStatus("not json"), std::runtime_error);
    EXPECT_THROW(parseStatus("[1]"), std::runtime_error);
    EXPECT_THROW(parseStatus(R"({"peers": {"k": {"name": 5, "connection": {}}}})"),
                 std::runtime_error);
}

struct FakeSockets final : StatusSocket {
    std::map<std::string, std::string> documents; // path -> text; missing: no fastd
    std::string read(const std::string& path) override {
        auto found = documents.find(path);
        if (found == documents.end())
            throw std::system_error(ENOENT, std::generic_category(), "connecting to " + path);
        return found->second;
    }
};

struct FakeUnits final : UnitRestarter {
    std::vector<std::string> restarted;
    bool fail = false;
    void restart(const std::string& unit) override {
        if (fail)
            throw std::runtime_error("restarting " + unit + ": no systemd");
        restarted.push_back(unit);
    }
};

struct FakeModes final : TransportModeStore {
    std::map<std::string, FastdTransportMode> stored;
    std::optional<FastdTransportMode> load(const std::string& vpn) override {
        auto found = stored.find(vpn);
        return found == stored.end() ? std::nullopt : std::optional(found->second);
    }
    void save(const std::string& vpn, FastdTransportMode mode) override { stored[vpn] = mode; }
};

Spec specWith(bool configurable, const std::string& mode = "secure") {
    std::string json = R"({"version": 1, "vpns": {"ff": {"id": 8, "protocol": "fastd",
        "addrV4": "198.51.100.8", "secretFile": "/s", "methods": ["salsa2012+umac", "null"],
        "configurable": )" +
                       std::string(configurable ? "true" : "false") + R"(, "transportMode": ")" +
                       mode + R"(",
        "peers": [{"name": "gw", "key": "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                   "remotes": ["192.0.2.2:10000"]}]},
      "wg": {"id": 1, "addrV4": "198.51.100.1", "privateKeyFile": "/k",
             "endpoint": "192.0.2.1:51820", "publicKey": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}}})";
    auto result = parseSpec(json);
    EXPECT_TRUE(result.ok()) << (result.errors.empty() ? "" : result.errors[0].toString());
    return result.spec;
}

class FastdTunnelsTest : public testing::Test {
protected:
    FakeSockets sockets;
    FakeUnits units;
    FakeModes modes;
    std::uint64_t now = 1'000'000;
    std::vector<std::pair<std::string, std::vector<std::string>>> announced;
    FastdTunnels tunnels{FastdSystem{sockets, units, modes, [this] { return now; }}, "/run/f",
                         [](int, std::string_view) {},
                         [this](const std::string& vpn, const std::vector<std::string>& what) {
                             announced.emplace_back(vpn, what);
                         }};
};

TEST_F(FastdTunnelsTest, ShowsTheConnectionFromTheStatusSocket) {
    sockets.documents["/run/f/ff.sock"] = connectedStatus;
    tunnels.specApplied(specWith(false));
    auto figures = tunnels.tunnelFigures("ff");
    ASSERT_TRUE(figures);
    EXPECT_EQ(figures->connectedPeer, "gw");
    EXPECT_EQ(figures->method, "salsa2012+umac");
    EXPECT_EQ(figures->endpoint, "192.0.2.2:10000");
    EXPECT_EQ(figures->established, now - 4);
    EXPECT_EQ(figures->rxBytes, 300u);
    EXPECT_EQ(figures->transportMode, ""); // not configurable
    EXPECT_FALSE(tunnels.tunnelFigures("wg")) << "WireGuard VPNs are not fastd's";
}

TEST_F(FastdTunnelsTest, AnnouncesANewConnectionButNotTheClockTicking) {
    tunnels.specApplied(specWith(false)); // no fastd yet: not connected
    EXPECT_EQ(tunnels.tunnelFigures("ff")->connectedPeer, "");
    announced.clear();
    sockets.documents["/run/f/ff.sock"] = connectedStatus;
    tunnels.tick();
    ASSERT_EQ(announced.size(), 1u);
    EXPECT_EQ(announced[0].second,
              (std::vector<std::string>{"ConnectedPeer", "Method", "Established", "Endpoint"}));
    announced.clear();
    now += 1; // fastd's milliseconds grow with the clock: the same connection
    sockets.documents["/run/f/ff.sock"] =
        std::string(connectedStatus).replace(std::string(connectedStatus).find("4196"), 4, "5196");
    tunnels.tick();
    EXPECT_TRUE(announced.empty());
}

TEST_F(FastdTunnelsTest, TheStoredModeWinsOverTheSpec) {
    tunnels.specApplied(specWith(true, "performance"));
    EXPECT_EQ(tunnels.tunnelFigures("ff")->transportMode, "performance");
    modes.stored["ff"] = FastdTransportMode::secure;
    tunnels.specApplied(specWith(true, "performance"));
    EXPECT_EQ(tunnels.tunnelFigures("ff")->transportMode, "secure");
}

TEST_F(FastdTunnelsTest, SetTransportModeStoresAndRestartsTheUnit) {
    const Spec spec = specWith(true);
    tunnels.specApplied(spec);
    announced.clear();
    tunnels.setTransportMode(*spec.find("ff"), FastdTransportMode::performance);
    EXPECT_EQ(modes.stored.at("ff"), FastdTransportMode::performance);
    EXPECT_EQ(units.restarted, (std::vector<std::string>{"vpn-ff-fastd.service"}));
    EXPECT_EQ(tunnels.tunnelFigures("ff")->transportMode, "performance");
    ASSERT_EQ(announced.size(), 1u);
    EXPECT_EQ(announced[0].second, (std::vector<std::string>{"TransportMode"}));
}

TEST_F(FastdTunnelsTest, AFailedRestartIsTheCallersError) {
    const Spec spec = specWith(true);
    tunnels.specApplied(spec);
    units.fail = true;
    EXPECT_THROW(tunnels.setTransportMode(*spec.find("ff"), FastdTransportMode::performance),
                 std::runtime_error);
}

} // namespace
