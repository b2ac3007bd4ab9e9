#include "service/wireguard/timedated_clock.hpp"

#include <memory>

namespace vpnsteer::wireguard {

TimedatedClock::~TimedatedClock() {
    if (bus_ != nullptr) {
        // Pending calls end with the bus; their slots free their callbacks.
        sd_bus_flush_close_unref(bus_);
    }
}

void TimedatedClock::askSynchronized(Done done) {
    if (bus_ == nullptr) {
        sd_bus* bus = nullptr;
        if (sd_bus_open_system(&bus) < 0) {
            done(std::nullopt);
            return;
        }
        if (sd_bus_attach_event(bus, event_, SD_EVENT_PRIORITY_NORMAL) < 0) {
            sd_bus_unref(bus);
            done(std::nullopt);
            return;
        }
        bus_ = bus;
    }
    auto owned = std::make_unique<Done>(std::move(done));
    sd_bus_slot* slot = nullptr;
    const int result = sd_bus_call_method_async(
        bus_, &slot, "org.freedesktop.timedate1", "/org/freedesktop/timedate1",
        "org.freedesktop.DBus.Properties", "Get", &TimedatedClock::onReply, owned.get(), "ss",
        "org.freedesktop.timedate1", "NTPSynchronized");
    if (result < 0) {
        (*owned)(std::nullopt);
        return;
    }
    // The slot owns the callback from now on, whether the reply comes or the bus closes.
    sd_bus_slot_set_destroy_callback(slot,
                                     [](void* userdata) { delete static_cast<Done*>(userdata); });
    sd_bus_slot_set_floating(slot, 1);
    sd_bus_slot_unref(slot);
    owned.release();
}

int TimedatedClock::onReply(sd_bus_message* reply, void* userdata, sd_bus_error*) {
    Done& done = *static_cast<Done*>(userdata);
    int synchronized = 0;
    if (sd_bus_message_is_method_error(reply, nullptr) ||
        sd_bus_message_read(reply, "v", "b", &synchronized) < 0) {
        done(std::nullopt);
    } else {
        done(synchronized != 0);
    }
    return 0;
}

} // namespace vpnsteer::wireguard
