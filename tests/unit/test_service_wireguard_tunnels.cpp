// WireguardTunnels (service/wireguard/tunnels.hpp) against a fake device and resolver: what
// vpnsteerd gives a device, when, and when it leaves it alone.
#include "service/wireguard/tunnels.hpp"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <gtest/gtest.h>
#include <random>
#include <set>
#include <sys/socket.h>
#include <unistd.h>

namespace vpnsteer::wireguard {
namespace {

constexpr std::string_view privateBase64 = "SIgO7mCrWducMxASktbLIGUCPVJYoDVNjPTWR6WwSH0=";
constexpr std::string_view devicePublic = "7ndtbfb9rlRF4Cr14RN5pgnY2NIe9t/3xgArwKuZwSM=";
constexpr std::string_view peerPublic = "CnrPRVkev5/drZpq2Dg9CF+uTER3SaxTN1yPQEkxdEs=";

// The kernel side of one device: applies changes the way wireguard-go does.
struct DeviceState {
    std::vector<std::string> operations;
    DeviceStatus status;
};

class FakeDevice final : public WireguardDevice {
public:
    explicit FakeDevice(DeviceState& state)
        : state_(state) {}
    void apply(const DeviceChange& change) override {
        if (change.privateKey) {
            state_.status.publicKey = publicKeyOf(*change.privateKey);
        }
        if (change.firewallMark) {
            state_.status.firewallMark = *change.firewallMark;
        }
        if (change.replacePeer) {
            state_.status.peers = {
                PeerStatus{change.replacePeer->publicKey, change.replacePeer->endpoint, 0, 0, 0}};
            state_.operations.push_back("replace peer at " +
                                        (change.replacePeer->endpoint
                                             ? change.replacePeer->endpoint->toString()
                                             : std::string("none")));
        }
        if (change.updateEndpoint) {
            for (PeerStatus& peer : state_.status.peers) {
                if (peer.publicKey == change.updateEndpoint->peer) {
                    peer.endpoint = change.updateEndpoint->endpoint;
                }
            }
            state_.operations.push_back("endpoint " + change.updateEndpoint->endpoint.toString());
        }
    }
    DeviceStatus status() override { return state_.status; }
    std::string_view kind() const override { return "fake"; }

private:
    DeviceState& state_;
};

class FakeResolver final : public EndpointResolver {
public:
    std::vector<std::pair<std::string, Done>> pending;
    void resolve(const std::string& host, const WanSettings&, Done done) override {
        pending.emplace_back(host, std::move(done));
    }
    void answer(std::string_view address) {
        ResolveResult result;
        auto endpoint = IpEndpoint::fromLiteral(address, 1);
        result.addresses.push_back(ResolvedAddress{endpoint->family, endpoint->address});
        auto [host, done] = std::move(pending.front());
        pending.erase(pending.begin());
        done(result);
    }
    void fail() {
        auto [host, done] = std::move(pending.front());
        pending.erase(pending.begin());
        done(ResolveResult{{}, "no answer"});
    }
};

class FakeClock final : public ClockSynchronization {
public:
    std::optional<bool> synchronized;
    int asked = 0;
    void askSynchronized(Done done) override {
        ++asked;
        done(synchronized);
    }
};

class TunnelsTest : public testing::Test {
protected:
    void SetUp() override {
        char path[] = "/tmp/vpnsteer-test-key.XXXXXX";
        const int fd = mkstemp(path);
        ASSERT_GE(fd, 0);
        ::close(fd);
        keyFile_ = path;
        std::ofstream(keyFile_) << privateBase64 << "\n";
    }
    void TearDown() override { std::remove(keyFile_.c_str()); }

    Spec spec(const std::string& endpointHost) {
        Vpn vpn;
        vpn.name = "us";
        vpn.id = 1;
        vpn.implementation = WireguardImplementation::userspace;
        vpn.privateKeyFile = keyFile_;
        vpn.peers.push_back(WireguardPeer{
            "gw", std::string(peerPublic), Endpoint{endpointHost, 51820, false}, {}, {}});
        Spec spec;
        spec.vpns.emplace("us", vpn);
        return spec;
    }

    WireguardTunnels make() {
        return WireguardTunnels(
            TunnelsSystem{
                .openDevice = [this](const Vpn&) { return std::make_unique<FakeDevice>(device_); },
                .interfaceIndex = [this](const std::string&) { return index_; },
                .resolver = &resolver_,
                .now = [this] { return now_; },
                .wallSeconds = [] { return std::uint64_t{1'700'000'000}; },
                .random =
                    [this](std::size_t bound) {
                        return std::uniform_int_distribution<std::size_t>(0, bound - 1)(random_);
                    },
                .probe =
                    [this](const Vpn& vpn) {
                        ++probes_;
                        probeSockets_.insert(vpn.name);
                    },
                .forgetProbe = [this](const std::string& name) { probeSockets_.erase(name); },
                .clock = &clock_,
            },
            TunnelsSettings{}, [this](int, std::string_view text) { journal_.emplace_back(text); },
            [this](const std::string& vpn, const std::vector<std::string>& properties) {
                for (const std::string& property : properties) {
                    announced_.push_back(vpn + "." + property);
                }
            });
    }

    // Three gateways at 198.51.100.1..3, with the default failover settings.
    Spec gateways() {
        Spec three = spec("198.51.100.1");
        Vpn& vpn = three.vpns.at("us");
        vpn.peers.push_back(WireguardPeer{"gw2",
                                          "KEyPCu21GuOJeh6IyoxBF7hE38aHX3XzhVDwCnvhthw=",
                                          Endpoint{"198.51.100.2", 51820, false},
                                          {},
                                          {}});
        vpn.peers.push_back(WireguardPeer{"gw3",
                                          "2iMPg9DQhDZVuq+QPHP1C4qQ09Mkl2l311HpUpungS0=",
                                          Endpoint{"198.51.100.3", 51820, false},
                                          {},
                                          {}});
        return three;
    }
    void seconds(int count, WireguardTunnels& tunnels) {
        for (int i = 0; i < count; ++i) {
            now_ += std::chrono::seconds(1);
            tunnels.tick();
        }
    }

    std::string keyFile_;
    std::mt19937_64 random_{42};
    int probes_ = 0;
    std::set<std::string> probeSockets_; // of the VPNs probed and not forgotten since
    FakeClock clock_;
    DeviceState device_;
    FakeResolver resolver_;
    unsigned index_ = 7;
    Clock::time_point now_{};
    std::vector<std::string> journal_;
    std::vector<std::string> announced_;
};

TEST_F(TunnelsTest, GivesAnExistingDeviceItsKeyMarkAndPeer) {
    WireguardTunnels tunnels = make();
    tunnels.specApplied(spec("198.51.100.1"));
    EXPECT_EQ(device_.operations, std::vector<std::string>{"replace peer at 198.51.100.1:51820"});
    ASSERT_TRUE(device_.status.publicKey);
    EXPECT_EQ(toBase64(*device_.status.publicKey), devicePublic);
    EXPECT_EQ(device_.status.firewallMark, 10001u);
    auto figures = tunnels.tunnelFigures("us");
    ASSERT_TRUE(figures);
    EXPECT_EQ(figures->publicKey, devicePublic);
    EXPECT_EQ(figures->endpoint, "198.51.100.1:51820");
    EXPECT_EQ(announced_, (std::vector<std::string>{"us.PublicKey", "us.Endpoint", "us.ActivePeer",
                                                    "us.Peers"}));
    EXPECT_TRUE(resolver_.pending.empty()) << "an address needs no DNS";
}

TEST_F(TunnelsTest, LeavesAConfiguredDeviceAlone) {
    WireguardTunnels tunnels = make();
    tunnels.specApplied(spec("198.51.100.1"));
    // vpnsteerd restarts: the new one adopts the device instead of resetting its session.
    WireguardTunnels restarted = make();
    restarted.specApplied(spec("198.51.100.1"));
    now_ += std::chrono::seconds(10);
    restarted.tick();
    EXPECT_EQ(device_.operations.size(), 1u);
}

TEST_F(TunnelsTest, ConfiguresADeviceThatAppearsOrComesBack) {
    index_ = 0;
    WireguardTunnels tunnels = make();
    tunnels.specApplied(spec("198.51.100.1"));
    EXPECT_TRUE(device_.operations.empty()) << "no device yet";
    index_ = 8;
    tunnels.linkAppeared("us", 8);
    EXPECT_EQ(device_.operations.size(), 1u);
    // wireguard-go restarted: a new device, empty, under a new index.
    tunnels.linkRemoved("us", 8);
    device_.status = DeviceStatus{};
    index_ = 9;
    tunnels.linkAppeared("us", 9);
    EXPECT_EQ(device_.operations.size(), 2u);
    tunnels.linkAppeared("other", 10);
    EXPECT_EQ(device_.operations.size(), 2u);
}

TEST_F(TunnelsTest, ResolvesHostNamesAndFollowsTheirAddress) {
    WireguardTunnels tunnels = make();
    tunnels.specApplied(spec("vpn.example"));
    EXPECT_EQ(device_.operations, std::vector<std::string>{"replace peer at none"});
    ASSERT_EQ(resolver_.pending.size(), 1u);
    EXPECT_EQ(resolver_.pending.front().first, "vpn.example");
    resolver_.answer("198.51.100.1");
    EXPECT_EQ(device_.operations.back(), "endpoint 198.51.100.1:51820");
    EXPECT_EQ(tunnels.tunnelFigures("us")->endpoint, "198.51.100.1:51820");

    // Not before the interval...
    now_ += std::chrono::seconds(30);
    tunnels.tick();
    EXPECT_TRUE(resolver_.pending.empty());
    // ...then again; the same address changes nothing.
    now_ += std::chrono::seconds(31);
    tunnels.tick();
    ASSERT_EQ(resolver_.pending.size(), 1u);
    resolver_.answer("198.51.100.1");
    EXPECT_EQ(device_.operations.size(), 2u);
    // The provider moved.
    now_ += std::chrono::seconds(61);
    tunnels.tick();
    resolver_.answer("198.51.100.101");
    EXPECT_EQ(device_.operations.back(), "endpoint 198.51.100.101:51820");
    EXPECT_EQ(tunnels.tunnelFigures("us")->endpoint, "198.51.100.101:51820");
}

TEST_F(TunnelsTest, AStaleHandshakeResolvesEarly) {
    WireguardTunnels tunnels = make();
    tunnels.specApplied(spec("vpn.example"));
    resolver_.answer("198.51.100.1");
    device_.status.peers[0].latestHandshake = 1'700'000'000 - 200; // older than 135 s
    now_ += std::chrono::seconds(6);
    tunnels.tick(); // the check reads the stale handshake
    tunnels.tick();
    EXPECT_EQ(resolver_.pending.size(), 1u) << "well before the 60 s interval";
}

TEST_F(TunnelsTest, ASinglePeerIsNeitherJudgedNorProbed) {
    WireguardTunnels tunnels = make();
    tunnels.specApplied(spec("198.51.100.1"));
    seconds(120, tunnels);
    EXPECT_EQ(device_.operations.size(), 1u);
    EXPECT_EQ(probes_, 0);
}

TEST_F(TunnelsTest, DeadGatewaysAreReplacedEachTriedOnceBeforeAnyRepeat) {
    WireguardTunnels tunnels = make();
    tunnels.specApplied(gateways());
    ASSERT_EQ(device_.operations.size(), 1u);
    EXPECT_EQ(device_.status.peers.size(), 1u) << "one gateway at a time";
    // Nothing ever answers: each gateway gets handshakeTimeout, then the next.
    seconds(6 * FailoverSettings{}.handshakeTimeout, tunnels);
    ASSERT_EQ(device_.operations.size(), 7u);
    const std::set<std::string> firstRound(device_.operations.begin(),
                                           device_.operations.begin() + 3);
    EXPECT_EQ(firstRound.size(), 3u) << "every gateway before any repeat";
    const std::set<std::string> secondRound(device_.operations.begin() + 3,
                                            device_.operations.begin() + 6);
    EXPECT_EQ(secondRound.size(), 3u);
    EXPECT_NE(device_.operations[2], device_.operations[3]) << "no gateway twice in a row";
    EXPECT_GT(probes_, 6) << "the probes make WireGuard initiate handshakes";
    const auto figures = tunnels.tunnelFigures("us");
    ASSERT_EQ(figures->peers.size(), 3u);
    int noHandshake = 0;
    for (const dbus::PeerFigures& peer : figures->peers) {
        noHandshake += peer.result == "no handshake" ? 1 : 0;
        EXPECT_EQ(peer.since, 1'700'000'000u);
    }
    EXPECT_EQ(noHandshake, 2) << "the active one is still being tried";
    EXPECT_EQ("replace peer at " + figures->endpoint, device_.operations.back());
    EXPECT_EQ(std::count(announced_.begin(), announced_.end(), "us.ActivePeer"), 7);
}

TEST_F(TunnelsTest, AnAnsweringGatewayStaysAndASilentOneIsLeft) {
    WireguardTunnels tunnels = make();
    tunnels.specApplied(gateways());
    const std::string first = tunnels.tunnelFigures("us")->activePeer;
    seconds(1, tunnels);
    device_.status.peers[0].latestHandshake = 1'700'000'000;
    device_.status.peers[0].rxBytes = 92;
    // Traffic both ways for two minutes.
    for (int i = 0; i < 120; ++i) {
        device_.status.peers[0].rxBytes += 1000;
        device_.status.peers[0].txBytes += 1000;
        seconds(1, tunnels);
    }
    EXPECT_EQ(device_.operations.size(), 1u);
    auto figures = tunnels.tunnelFigures("us");
    EXPECT_EQ(figures->activePeer, first);
    for (const dbus::PeerFigures& peer : figures->peers) {
        EXPECT_EQ(peer.result, peer.name == first ? "alive" : "untried");
    }
    // The gateway dies under traffic: left within silenceTimeout (15 s) and a sample.
    int elapsed = 0;
    while (device_.operations.size() == 1 && elapsed < 60) {
        device_.status.peers[0].txBytes += 1000;
        seconds(1, tunnels);
        ++elapsed;
    }
    EXPECT_EQ(elapsed, 15);
    figures = tunnels.tunnelFigures("us");
    EXPECT_NE(figures->activePeer, first);
    for (const dbus::PeerFigures& peer : figures->peers) {
        if (peer.name == first) {
            EXPECT_EQ(peer.result, "silent");
        }
    }
    EXPECT_EQ(clock_.asked, 0) << "it handshook: the clock is not the cause";
}

TEST_F(TunnelsTest, AProbeSocketGoesWhenItsVpnLeavesChangesOrLosesItsDevice) {
    WireguardTunnels tunnels = make();
    const auto probeUntilOpen = [&] {
        for (int i = 0; i < 30 && probeSockets_.empty(); ++i) {
            seconds(1, tunnels);
        }
        return probeSockets_.contains("us");
    };
    tunnels.specApplied(gateways());
    ASSERT_TRUE(probeUntilOpen()) << "a silent gateway is probed";

    Spec changed = gateways();
    changed.vpns.at("us").dns = {"10.64.0.1"};
    tunnels.specApplied(changed);
    EXPECT_FALSE(probeSockets_.contains("us")) << "the VPN changed";

    ASSERT_TRUE(probeUntilOpen());
    tunnels.linkRemoved("us", index_);
    EXPECT_FALSE(probeSockets_.contains("us")) << "the device went";

    tunnels.linkAppeared("us", index_);
    ASSERT_TRUE(probeUntilOpen());
    tunnels.specApplied(Spec{});
    EXPECT_TRUE(probeSockets_.empty()) << "the VPN left the spec";
}

TEST_F(TunnelsTest, AFailedHandshakeWithAnUnsynchronizedClockIsExplained) {
    clock_.synchronized = false;
    WireguardTunnels tunnels = make();
    tunnels.specApplied(gateways());
    seconds(FailoverSettings{}.handshakeTimeout, tunnels);
    EXPECT_EQ(clock_.asked, 1);
    const bool warned = std::any_of(journal_.begin(), journal_.end(), [](const std::string& line) {
        return line.find("system clock is not synchronized") != std::string::npos;
    });
    EXPECT_TRUE(warned);
}

TEST_F(TunnelsTest, NoClockWarningWhileTheClockIsSynchronized) {
    clock_.synchronized = true;
    WireguardTunnels tunnels = make();
    tunnels.specApplied(gateways());
    seconds(FailoverSettings{}.handshakeTimeout, tunnels);
    EXPECT_EQ(clock_.asked, 1);
    for (const std::string& line : journal_) {
        EXPECT_EQ(line.find("clock"), std::string::npos) << line;
    }
}

TEST_F(TunnelsTest, AHostNameGatewayGetsARandomAddressAndIsResolvedAgainWhenUsedUp) {
    Spec one = spec("gw.example");
    one.vpns.at("us").failover = FailoverSettings{};
    WireguardTunnels tunnels = make();
    tunnels.specApplied(one);
    ASSERT_EQ(resolver_.pending.size(), 1u);
    ResolveResult result;
    for (std::string_view address : {"198.51.100.1", "198.51.100.2"}) {
        auto endpoint = IpEndpoint::fromLiteral(address, 1);
        result.addresses.push_back(ResolvedAddress{endpoint->family, endpoint->address});
    }
    auto [host, done] = std::move(resolver_.pending.front());
    resolver_.pending.clear();
    done(result);
    const std::string firstAddress = tunnels.tunnelFigures("us")->endpoint;
    // Dead: the other address of the name, without asking DNS.
    seconds(FailoverSettings{}.handshakeTimeout + 1, tunnels);
    EXPECT_TRUE(resolver_.pending.empty());
    const std::string secondAddress = tunnels.tunnelFigures("us")->endpoint;
    EXPECT_NE(secondAddress, firstAddress);
    EXPECT_EQ(device_.operations.back(), "replace peer at " + secondAddress);
    // Dead again: both used, so the name is resolved again through the uplink.
    seconds(FailoverSettings{}.handshakeTimeout, tunnels);
    EXPECT_EQ(resolver_.pending.size(), 1u);
}

TEST_F(TunnelsTest, AGatewayWhoseNameDoesNotResolveIsSkippedAfterTheHandshakeTimeout) {
    Spec two = spec("a.example");
    two.vpns.at("us").peers.push_back(WireguardPeer{"gw2",
                                                    "KEyPCu21GuOJeh6IyoxBF7hE38aHX3XzhVDwCnvhthw=",
                                                    Endpoint{"b.example", 51820, false},
                                                    {},
                                                    {}});
    WireguardTunnels tunnels = make();
    tunnels.specApplied(two);
    ASSERT_EQ(resolver_.pending.size(), 1u);
    const std::string first = resolver_.pending.front().first;
    resolver_.fail();
    // Not a busy loop of queries: the next tick does not ask again before the timeout.
    seconds(FailoverSettings{}.handshakeTimeout - 1, tunnels);
    EXPECT_EQ(resolver_.pending.size(), 0u);
    seconds(1, tunnels);
    ASSERT_EQ(resolver_.pending.size(), 1u);
    EXPECT_NE(resolver_.pending.front().first, first) << "the other gateway's turn";
    const auto figures = tunnels.tunnelFigures("us");
    for (const dbus::PeerFigures& peer : figures->peers) {
        if (peer.name == figures->activePeer) {
            EXPECT_EQ(peer.result, "trying");
        } else {
            EXPECT_EQ(peer.result, "unresolved");
        }
    }
}

} // namespace
} // namespace vpnsteer::wireguard
