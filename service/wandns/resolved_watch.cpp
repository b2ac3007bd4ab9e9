#include "service/wandns/resolved_watch.hpp"

#include "service/dbus/bus_event_source.hpp"

namespace vpnsteer::wandns {

namespace {

// After the first signal of a burst (networkd sets servers, domains and default route one call
// after the other), the servers are read once, this much later.
constexpr std::uint64_t settleMicroseconds = 100'000;

} // namespace

ResolvedWatch::ResolvedWatch(sd_event* event, sdbus::IConnection& bus,
                             std::function<void()> changed, std::chrono::milliseconds interval)
    : changed_(std::move(changed))
    , interval_(interval) {
    sd_event_source* source = nullptr;
    dbus::checkSdResult(sd_event_add_time_relative(event, &source, CLOCK_MONOTONIC,
                                                   settleMicroseconds, 0, &ResolvedWatch::onSoon,
                                                   this),
                        "adding the uplink DNS timer");
    soon_.reset(source);
    dbus::checkSdResult(sd_event_source_set_enabled(source, SD_EVENT_OFF),
                        "disabling the uplink DNS timer");
    const auto intervalMicroseconds =
        static_cast<std::uint64_t>(std::chrono::microseconds(interval_).count());
    dbus::checkSdResult(sd_event_add_time_relative(event, &source, CLOCK_MONOTONIC,
                                                   intervalMicroseconds, 0,
                                                   &ResolvedWatch::onInterval, this),
                        "adding the uplink DNS poll timer");
    intervalSource_.reset(source);

    const auto onSignal = [this](sdbus::Message&) { soon(); };
    for (const char* rule :
         {"type='signal',sender='org.freedesktop.resolve1',"
          "interface='org.freedesktop.DBus.Properties',member='PropertiesChanged'",
          "type='signal',sender='org.freedesktop.network1',"
          "interface='org.freedesktop.DBus.Properties',member='PropertiesChanged'",
          "type='signal',sender='org.freedesktop.DBus',member='NameOwnerChanged',"
          "arg0='org.freedesktop.resolve1'"}) {
        matches_.push_back(bus.addMatch(rule, onSignal));
    }
}

void ResolvedWatch::soon() noexcept {
    int enabled = SD_EVENT_OFF;
    if (sd_event_source_get_enabled(soon_.get(), &enabled) >= 0 && enabled != SD_EVENT_OFF) {
        return; // already due
    }
    sd_event_source_set_time_relative(soon_.get(), settleMicroseconds);
    sd_event_source_set_enabled(soon_.get(), SD_EVENT_ONESHOT);
}

int ResolvedWatch::onSoon(sd_event_source*, std::uint64_t, void* self) noexcept {
    static_cast<ResolvedWatch*>(self)->changed_();
    return 0;
}

int ResolvedWatch::onInterval(sd_event_source* source, std::uint64_t, void* self) noexcept {
    auto* watch = static_cast<ResolvedWatch*>(self);
    watch->changed_();
    sd_event_source_set_time_relative(
        source, static_cast<std::uint64_t>(std::chrono::microseconds(watch->interval_).count()));
    sd_event_source_set_enabled(source, SD_EVENT_ON);
    return 0;
}

} // namespace vpnsteer::wandns
