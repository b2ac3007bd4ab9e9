// The period of vpnsteerd's repeating timer (service/dbus/bus_event_source.hpp) on a real
// sd-event loop: the tunnel tick of service/wireguard comes once a second, not once per
// 1.25 s (sd-event's default slack), since gateway judging and so failover time count in it.
#include "service/dbus/bus_event_source.hpp"
#include "service/wireguard/tunnel_service.hpp"

#include <chrono>
#include <functional>
#include <gtest/gtest.h>
#include <memory>
#include <thread>
#include <vector>

namespace vpnsteer {
namespace {

using namespace std::chrono_literals;
using Steady = std::chrono::steady_clock;

struct EventDeleter {
    void operator()(sd_event* event) const { sd_event_unref(event); }
};
using EventPtr = std::unique_ptr<sd_event, EventDeleter>;

EventPtr newEvent() {
    sd_event* event = nullptr;
    if (sd_event_new(&event) < 0) {
        return nullptr;
    }
    return EventPtr(event);
}

// Runs `event` until `count` ticks of a timer of `interval` and `accuracy` came (or a
// deadline that many intervals and then some away passed); `work` runs in each tick.
std::vector<Steady::time_point> ticksOf(sd_event* event, std::uint64_t intervalMicroseconds,
                                        std::uint64_t accuracyMicroseconds, std::size_t count,
                                        const std::function<void(std::size_t)>& work = {}) {
    std::vector<Steady::time_point> ticks;
    dbus::RepeatingTimer timer(event, intervalMicroseconds, accuracyMicroseconds, [&] {
        ticks.push_back(Steady::now());
        if (work) {
            work(ticks.size());
        }
        if (ticks.size() == count) {
            sd_event_exit(event, 0);
        }
    });
    dbus::RepeatingTimer deadline(event, intervalMicroseconds * (count + 3) + 2'000'000, 0,
                                  [event] { sd_event_exit(event, 1); });
    sd_event_loop(event);
    return ticks;
}

std::chrono::milliseconds between(Steady::time_point from, Steady::time_point to) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(to - from);
}

TEST(TunnelTick, ComesOnceASecond) {
    EventPtr event = newEvent();
    ASSERT_TRUE(event);
    constexpr std::size_t periods = 3;
    const auto ticks = ticksOf(event.get(), wireguard::tickMicroseconds,
                               wireguard::tickAccuracyMicroseconds, periods + 1);
    ASSERT_EQ(ticks.size(), periods + 1) << "the loop's deadline passed first";
    const auto average = between(ticks.front(), ticks.back()) / periods;
    // Ticks are due on a fixed grid, so a loaded machine that wakes the loop late moves
    // the first or the last tick, not the rest: the bounds leave it 300 ms either way and
    // still tell 1 s from sd-event's default 1.25 s.
    EXPECT_GE(average.count(), 900);
    EXPECT_LE(average.count(), 1'150) << "the tick comes every " << average.count() << " ms";
}

TEST(RepeatingTimer, ATickThatRanLongIsNotFollowedByABurst) {
    EventPtr event = newEvent();
    ASSERT_TRUE(event);
    // The first tick holds the loop for three and a half intervals.
    const auto ticks = ticksOf(event.get(), 100'000, 1'000, 4, [](std::size_t tick) {
        if (tick == 1) {
            std::this_thread::sleep_for(350ms);
        }
    });
    ASSERT_EQ(ticks.size(), 4u);
    EXPECT_GE(between(ticks[1], ticks[2]).count(), 90);
    EXPECT_GE(between(ticks[2], ticks[3]).count(), 90);
}

} // namespace
} // namespace vpnsteer
