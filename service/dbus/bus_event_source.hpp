// Runs an sdbus-c++ connection on an sd-event loop. sdbus-c++ 1.2 has no sd-event
// integration of its own, but it hands out its poll data (fd, events, timeout): a prepare
// callback copies them into an I/O source and a timer before each wait, as sd-event's
// documentation suggests for foreign event sources (sd_event_source_set_prepare(3)).
//
// vpnsteerd's other parts (the netlink monitor, signals, later the WAN DNS forwarder) attach
// to the same loop, so everything runs on one thread and never races over the state.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <sdbus-c++/IConnection.h>
#include <system_error>
#include <systemd/sd-event.h>

namespace vpnsteer::dbus {

// sd-event (like most of libsystemd) returns a negative errno on failure: throws
// std::system_error naming `what` then.
inline void checkSdResult(int result, const char* what) {
    if (result < 0) {
        throw std::system_error(-result, std::generic_category(), what);
    }
}

struct EventSourceDeleter {
    void operator()(sd_event_source* source) const { sd_event_source_disable_unref(source); }
};
using EventSourcePtr = std::unique_ptr<sd_event_source, EventSourceDeleter>;

// Calls `tick` every `intervalMicroseconds` (CLOCK_MONOTONIC) on `event`'s loop while it
// exists: the one-second timers of service/wireguard and service/fastd. `tick` must not
// throw. The constructor throws std::system_error.
//
// Each tick is due one interval after the previous one was due, not after it ran, and fires
// within `accuracyMicroseconds` of that (sd_event_add_time(3): sd-event may delay a timer
// that much to wake up together with others; 0 means its default of 250 ms). So the ticks
// come on average once per interval, however late a single one fires.
class RepeatingTimer {
public:
    RepeatingTimer(sd_event* event, std::uint64_t intervalMicroseconds,
                   std::uint64_t accuracyMicroseconds, std::function<void()> tick);
    RepeatingTimer(const RepeatingTimer&) = delete;
    RepeatingTimer& operator=(const RepeatingTimer&) = delete;

private:
    static int onTime(sd_event_source* source, uint64_t usec, void* self);

    std::uint64_t interval_;
    std::function<void()> tick_;
    EventSourcePtr source_;
};

class BusEventSource {
public:
    // Attaches `connection` to `event`. When the connection fails (the bus went away), the
    // loop exits with sd_event_exit(event, EXIT_FAILURE). Throws std::system_error.
    BusEventSource(sd_event* event, sdbus::IConnection& connection);
    BusEventSource(const BusEventSource&) = delete;
    BusEventSource& operator=(const BusEventSource&) = delete;

private:
    static int onPrepare(sd_event_source* source, void* self);
    static int onIo(sd_event_source* source, int fd, uint32_t events, void* self);
    static int onTime(sd_event_source* source, uint64_t usec, void* self);
    int process();

    sd_event* event_;
    sdbus::IConnection& connection_;
    EventSourcePtr io_;
    EventSourcePtr timer_;
};

} // namespace vpnsteer::dbus
