// GatewaySelector (service/wireguard/gateway_selector.hpp) with a fake clock and a scripted
// random source: the order in which gateways are tried, the addresses of a host-name
// gateway, and when a gateway counts as dead.
#include "service/wireguard/gateway_selector.hpp"

#include <gtest/gtest.h>
#include <random>
#include <set>
#include <sys/socket.h>

namespace vpnsteer::wireguard {
namespace {

using std::chrono::seconds;

// A seeded generator: repeatable, and still "random" enough to exercise every order.
GatewaySelector::Random seeded(std::uint64_t seed) {
    auto engine = std::make_shared<std::mt19937_64>(seed);
    return [engine](std::size_t bound) {
        return std::uniform_int_distribution<std::size_t>(0, bound - 1)(*engine);
    };
}

ResolvedAddress v4(std::uint8_t last) {
    ResolvedAddress address;
    address.family = AF_INET;
    address.address = {198, 51, 100, last};
    return address;
}

TEST(GatewaySelectorTest, TriesEveryPeerOnceBeforeAnyRepeat) {
    for (std::uint64_t seed = 0; seed < 200; ++seed) {
        GatewaySelector selector(4, FailoverSettings{}, seeded(seed));
        std::optional<std::size_t> previous;
        for (int round = 0; round < 5; ++round) {
            std::set<std::size_t> seen;
            for (int i = 0; i < 4; ++i) {
                const std::size_t peer = selector.nextPeer();
                ASSERT_LT(peer, 4u);
                EXPECT_TRUE(seen.insert(peer).second) << "seed " << seed << " round " << round;
                EXPECT_NE(previous, peer) << "the same gateway twice in a row, seed " << seed;
                previous = peer;
            }
        }
    }
}

TEST(GatewaySelectorTest, TheOrderIsRandom) {
    // Over many hosts (seeds) every peer comes first sometimes: clients spread out.
    std::set<std::size_t> firsts;
    std::set<std::vector<std::size_t>> orders;
    for (std::uint64_t seed = 0; seed < 100; ++seed) {
        GatewaySelector selector(3, FailoverSettings{}, seeded(seed));
        std::vector<std::size_t> order{selector.nextPeer(), selector.nextPeer(),
                                       selector.nextPeer()};
        firsts.insert(order.front());
        orders.insert(order);
    }
    EXPECT_EQ(firsts.size(), 3u);
    EXPECT_EQ(orders.size(), 6u) << "every permutation of three occurs";
}

TEST(GatewaySelectorTest, AnAdoptedPeerCountsAsTriedInTheFirstRound) {
    GatewaySelector selector(3, FailoverSettings{}, seeded(7));
    selector.adopt(2);
    const std::size_t second = selector.nextPeer();
    const std::size_t third = selector.nextPeer();
    EXPECT_EQ((std::set<std::size_t>{second, third}), (std::set<std::size_t>{0, 1}));
    EXPECT_NE(selector.nextPeer(), third) << "the next round starts elsewhere";
}

TEST(GatewaySelectorTest, OnePeerIsTriedAgainAndAgain) {
    GatewaySelector selector(1, FailoverSettings{}, seeded(1));
    EXPECT_EQ(selector.nextPeer(), 0u);
    EXPECT_EQ(selector.nextPeer(), 0u);
}

TEST(GatewaySelectorTest, UsesEachAddressOfANameOnceThenAsksForANewResolution) {
    GatewaySelector selector(2, FailoverSettings{}, seeded(3));
    EXPECT_FALSE(selector.takeAddress(1)) << "nothing resolved yet";
    selector.resolvedAddresses(1, {v4(1), v4(2), v4(3)});
    std::set<std::uint8_t> taken;
    for (int i = 0; i < 3; ++i) {
        auto address = selector.takeAddress(1);
        ASSERT_TRUE(address);
        taken.insert(address->address[3]);
    }
    EXPECT_EQ(taken, (std::set<std::uint8_t>{1, 2, 3}));
    EXPECT_FALSE(selector.takeAddress(1)) << "used up: resolve again";
    // The new answer still has 3; 4 and 5 are new: those come first.
    selector.resolvedAddresses(1, {v4(3), v4(4), v4(5)});
    std::set<std::uint8_t> fresh{selector.takeAddress(1)->address[3],
                                 selector.takeAddress(1)->address[3]};
    EXPECT_EQ(fresh, (std::set<std::uint8_t>{4, 5}));
    // Everything used: a new resolution with the same addresses makes them fresh again.
    selector.resolvedAddresses(1, {v4(3), v4(4), v4(5)});
    EXPECT_TRUE(selector.takeAddress(1));
    EXPECT_FALSE(selector.takeAddress(0)) << "each peer has its own addresses";
}

TEST(GatewaySelectorTest, TheAddressIsPickedAtRandom) {
    std::set<std::uint8_t> firsts;
    for (std::uint64_t seed = 0; seed < 50; ++seed) {
        GatewaySelector selector(1, FailoverSettings{}, seeded(seed));
        selector.resolvedAddresses(0, {v4(1), v4(2), v4(3)});
        firsts.insert(selector.takeAddress(0)->address[3]);
    }
    EXPECT_EQ(firsts.size(), 3u);
}

// The liveness tests walk a fake clock a second at a time, as vpnsteerd's timer does.
class LivenessTest : public testing::Test {
protected:
    LivenessTest()
        : selector_(2, FailoverSettings{}, seeded(1)) {
        selector_.installed(counters_, now_);
    }

    // Advances the clock by one second and samples; returns the judgement.
    Judgement second() {
        now_ += seconds(1);
        return selector_.observe(counters_, now_);
    }
    // Samples `count` seconds; returns the second on which the peer was declared dead
    // (0 for never) and counts the probes.
    int secondsUntilDead(int count, PeerResult* result = nullptr) {
        for (int i = 1; i <= count; ++i) {
            const Judgement judgement = second();
            probes_ += judgement.probe ? 1 : 0;
            if (judgement.dead) {
                if (result)
                    *result = *judgement.dead;
                return i;
            }
        }
        return 0;
    }

    GatewaySelector selector_;
    PeerCounters counters_;
    Clock::time_point now_{seconds(1000)};
    int probes_ = 0;
};

TEST_F(LivenessTest, APeerWithoutHandshakeIsDeadAfterTheHandshakeTimeout) {
    PeerResult result{};
    counters_.txBytes = 148; // the initiations
    EXPECT_EQ(secondsUntilDead(30, &result), FailoverSettings{}.handshakeTimeout);
    EXPECT_EQ(result, PeerResult::noHandshake);
    EXPECT_GE(probes_, 3) << "the probes are what make WireGuard initiate";
}

TEST_F(LivenessTest, TheFirstSampleProbesAtOnce) {
    EXPECT_TRUE(second().probe);
}

TEST_F(LivenessTest, AHandshakeMakesItAlive) {
    second();
    counters_ = {1'700'000'000, 92, 148};
    const Judgement judgement = second();
    EXPECT_TRUE(judgement.becameAlive);
    EXPECT_FALSE(judgement.dead);
    EXPECT_FALSE(second().becameAlive) << "said once";
}

TEST_F(LivenessTest, AnIdleLivePeerIsProbedAndStaysAlive) {
    counters_ = {1'700'000'000, 92, 148};
    second();
    // Idle: each probe goes out (tx) and its answer comes back (rx) within the second.
    for (int i = 0; i < 300; ++i) {
        const Judgement judgement = second();
        ASSERT_FALSE(judgement.dead) << "second " << i;
        if (judgement.probe) {
            ++probes_;
            counters_.txBytes += 64;
            counters_.rxBytes += 96;
        }
    }
    // One probe every probeInterval (3 s) after 3 s of quiet: about every 4th second.
    EXPECT_GT(probes_, 60);
    EXPECT_LT(probes_, 110);
}

TEST(GatewaySelectorTest, ANewRoundTriesTheLongestDeadLastOnes) {
    // Three gateways; the first round finds the first two dead, the third answers and dies
    // later. The next round tries the one dead longest ago first, the one that just died last.
    for (std::uint64_t seed = 0; seed < 50; ++seed) {
        GatewaySelector selector(3, FailoverSettings{4, 6, 2}, seeded(seed));
        Clock::time_point now{seconds(1000)};
        std::vector<std::size_t> round;
        for (int i = 0; i < 3; ++i) {
            round.push_back(selector.nextPeer());
            selector.installed({}, now);
            if (i < 2) {
                now += seconds(4);
                ASSERT_TRUE(selector.observe({}, now).dead);
            } else {
                now += seconds(1);
                selector.observe({1'700'000'000, 92, 148}, now);
                now += seconds(30);
                ASSERT_TRUE(selector.observe({1'700'000'000, 92, 500}, now).dead) << "silent";
            }
        }
        EXPECT_EQ(selector.nextPeer(), round[0]) << "seed " << seed;
        EXPECT_EQ(selector.nextPeer(), round[1]);
        EXPECT_EQ(selector.nextPeer(), round[2]);
    }
}

TEST(GatewaySelectorTest, ANewRoundKeepsTheUnfailedInRandomOrderAndFirst) {
    std::set<std::size_t> firsts;
    for (std::uint64_t seed = 0; seed < 60; ++seed) {
        GatewaySelector selector(4, FailoverSettings{4, 6, 2}, seeded(seed));
        Clock::time_point now{seconds(1000)};
        const std::size_t dead = selector.nextPeer();
        selector.installed({}, now);
        ASSERT_TRUE(selector.observe({}, now + seconds(4)).dead);
        for (int i = 0; i < 3; ++i)
            selector.nextPeer(); // the rest of the round, never judged
        const std::size_t first = selector.nextPeer();
        EXPECT_NE(first, dead) << "the dead one waits for the others";
        firsts.insert(first);
    }
    EXPECT_EQ(firsts.size(), 4u) << "among the others the order stays random";
}

TEST_F(LivenessTest, APeerThatStopsAnsweringIsDeadAfterTheSilenceTimeout) {
    counters_ = {1'700'000'000, 92, 148};
    second();
    for (int i = 0; i < 20; ++i) { // traffic both ways
        counters_.txBytes += 1000;
        counters_.rxBytes += 1000;
        ASSERT_FALSE(second().dead);
    }
    // The gateway dies: what goes in gets no answer.
    PeerResult result{};
    int dead = 0;
    for (int i = 1; i <= 40 && !dead; ++i) {
        counters_.txBytes += 1000;
        const Judgement judgement = second();
        if (judgement.dead) {
            dead = i;
            result = *judgement.dead;
        }
    }
    EXPECT_EQ(dead, 15);
    EXPECT_EQ(result, PeerResult::silent);
}

TEST_F(LivenessTest, AnIdleDeadPeerIsFoundThroughTheProbes) {
    counters_ = {1'700'000'000, 92, 148};
    second();
    // Nobody sends anything but the probes, and nothing answers them.
    int dead = 0;
    for (int i = 1; i <= 40 && !dead; ++i) {
        const Judgement judgement = second();
        if (judgement.probe)
            counters_.txBytes += 64;
        dead = judgement.dead ? i : 0;
    }
    EXPECT_GT(dead, 0);
    EXPECT_LE(dead, 16) << "silenceTimeout after the last answer, plus a sample";
}

TEST_F(LivenessTest, SilenceWithoutSendingIsNoVerdict) {
    // Receiving nothing while sending nothing (no probe answered, nothing sent) says
    // nothing about the peer: the verdict needs packets that went unanswered.
    counters_ = {1'700'000'000, 92, 148};
    second();
    for (int i = 0; i < 60; ++i)
        ASSERT_FALSE(second().dead);
}

TEST_F(LivenessTest, TheTimingsComeFromTheSettings) {
    GatewaySelector quick(2, FailoverSettings{4, 6, 2}, seeded(1));
    quick.installed({}, now_);
    int dead = 0;
    for (int i = 1; i <= 10 && !dead; ++i) {
        now_ += seconds(1);
        dead = quick.observe({}, now_).dead ? i : 0;
    }
    EXPECT_EQ(dead, 4);
}

TEST_F(LivenessTest, AnAdoptedPeerWithASessionIsAliveWhenItAnswers) {
    counters_ = {1'700'000'000, 5000, 6000};
    selector_.installed(counters_, now_);
    second();
    counters_.rxBytes += 96;
    EXPECT_TRUE(second().becameAlive);
}

TEST_F(LivenessTest, AnAdoptedPeerThatNeverAnswersIsSilentNotWithoutHandshake) {
    counters_ = {1'700'000'000, 5000, 6000};
    selector_.installed(counters_, now_);
    PeerResult result{};
    for (int i = 1; i <= 20; ++i) {
        counters_.txBytes += 64;
        if (const Judgement judgement = second(); judgement.dead) {
            result = *judgement.dead;
            EXPECT_EQ(i, FailoverSettings{}.handshakeTimeout);
            break;
        }
    }
    EXPECT_EQ(result, PeerResult::silent) << "it had a session: not a clock problem";
}

TEST_F(LivenessTest, TheHandshakeIsJudgedByItsChangeNotByTheClock) {
    // A handshake timestamp far in the past or future (a wrong system clock) still counts.
    second();
    counters_.latestHandshake = 12;
    EXPECT_TRUE(second().becameAlive);
}

TEST(PeerResultTest, Words) {
    EXPECT_EQ(toString(PeerResult::noHandshake), "no handshake");
    EXPECT_EQ(toString(PeerResult::silent), "silent");
    EXPECT_EQ(toString(PeerResult::untried), "untried");
}

} // namespace
} // namespace vpnsteer::wireguard
