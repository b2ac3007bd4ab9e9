#include "service/dbus/bus_event_source.hpp"

#include <cstdlib>
#include <sdbus-c++/Error.h>

namespace vpnsteer::dbus {

BusEventSource::BusEventSource(sd_event* event, sdbus::IConnection& connection)
    : event_(event)
    , connection_(connection) {
    const sdbus::IConnection::PollData poll = connection_.getEventLoopPollData();
    sd_event_source* io = nullptr;
    checkSdResult(sd_event_add_io(event_, &io, poll.fd, static_cast<uint16_t>(poll.events),
                                  &BusEventSource::onIo, this),
                  "watching the D-Bus connection");
    io_.reset(io);
    checkSdResult(sd_event_source_set_prepare(io, &BusEventSource::onPrepare),
                  "preparing the D-Bus connection's source");
    sd_event_source* timer = nullptr;
    checkSdResult(sd_event_add_time(event_, &timer, CLOCK_MONOTONIC, UINT64_MAX, 0,
                                    &BusEventSource::onTime, this),
                  "adding the D-Bus connection's timer");
    timer_.reset(timer);
    checkSdResult(sd_event_source_set_enabled(timer, SD_EVENT_OFF), "disabling the D-Bus timer");
}

int BusEventSource::onPrepare(sd_event_source*, void* opaque) {
    auto* self = static_cast<BusEventSource*>(opaque);
    try {
        const sdbus::IConnection::PollData poll = self->connection_.getEventLoopPollData();
        // poll(2) and epoll(7) share the values of IN, OUT, ERR and HUP.
        sd_event_source_set_io_events(self->io_.get(), static_cast<uint16_t>(poll.events));
        if (poll.timeout_usec == UINT64_MAX) {
            sd_event_source_set_enabled(self->timer_.get(), SD_EVENT_OFF);
        } else {
            sd_event_source_set_time(self->timer_.get(), poll.timeout_usec);
            sd_event_source_set_enabled(self->timer_.get(), SD_EVENT_ONESHOT);
        }
    } catch (const sdbus::Error&) {
        return sd_event_exit(self->event_, EXIT_FAILURE);
    }
    return 0;
}

int BusEventSource::onIo(sd_event_source*, int, uint32_t, void* self) {
    return static_cast<BusEventSource*>(self)->process();
}

int BusEventSource::onTime(sd_event_source*, uint64_t, void* self) {
    return static_cast<BusEventSource*>(self)->process();
}

int BusEventSource::process() {
    // Method handlers catch their own errors (dbus/boundary.hpp); what arrives here is the
    // connection failing.
    try {
        while (connection_.processPendingRequest()) {
        }
    } catch (const sdbus::Error&) {
        return sd_event_exit(event_, EXIT_FAILURE);
    }
    return 0;
}

RepeatingTimer::RepeatingTimer(sd_event* event, std::uint64_t intervalMicroseconds,
                               std::uint64_t accuracyMicroseconds, std::function<void()> tick)
    : interval_(intervalMicroseconds)
    , tick_(std::move(tick)) {
    sd_event_source* source = nullptr;
    checkSdResult(sd_event_add_time_relative(event, &source, CLOCK_MONOTONIC, interval_,
                                             accuracyMicroseconds, &RepeatingTimer::onTime, this),
                  "adding a timer");
    source_.reset(source);
    checkSdResult(sd_event_source_set_enabled(source, SD_EVENT_ON), "enabling a timer");
}

int RepeatingTimer::onTime(sd_event_source* source, uint64_t due, void* self) {
    auto* timer = static_cast<RepeatingTimer*>(self);
    timer->tick_();
    // After a stall of the loop (or a tick that ran long), the next one is an interval away
    // from now: missed ticks are skipped, not fired in a burst.
    std::uint64_t now = 0;
    const std::uint64_t next = due + timer->interval_;
    if (sd_event_now(sd_event_source_get_event(source), CLOCK_MONOTONIC, &now) >= 0 && next > now) {
        sd_event_source_set_time(source, next);
    } else {
        sd_event_source_set_time_relative(source, timer->interval_);
    }
    return 0;
}

} // namespace vpnsteer::dbus
