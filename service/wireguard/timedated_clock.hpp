// ClockSynchronization from systemd-timedated: the property NTPSynchronized of
// org.freedesktop.timedate1 (systemd's org.freedesktop.timedate1(5)), read asynchronously
// on vpnsteerd's event loop over a system-bus connection of its own, opened on first use.
// timedated is bus-activated and exits when idle; a host without it answers "unknown".
#pragma once

#include "service/wireguard/clock_sync.hpp"

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

namespace vpnsteer::wireguard {

class TimedatedClock final : public ClockSynchronization {
public:
    explicit TimedatedClock(sd_event* event)
        : event_(event) {}
    ~TimedatedClock();
    TimedatedClock(const TimedatedClock&) = delete;
    TimedatedClock& operator=(const TimedatedClock&) = delete;

    void askSynchronized(Done done) override;

private:
    static int onReply(sd_bus_message* reply, void* userdata, sd_bus_error*);

    sd_event* event_;
    sd_bus* bus_ = nullptr;
};

} // namespace vpnsteer::wireguard
