// Tells the WAN DNS forwarder when the uplink's DNS servers may have changed: on
// PropertiesChanged from systemd-resolved or systemd-networkd (networkd announces the changes of
// the links it manages, DHCP's servers included), when resolved starts or stops
// (NameOwnerChanged), and every `interval` as well, for a change no signal announces (whether
// resolved announces its links' DNS property depends on its version). Bursts of signals make one
// call, a short moment after the first.
#pragma once

#include "service/wandns/handles.hpp"

#include <chrono>
#include <functional>
#include <sdbus-c++/IConnection.h>
#include <sdbus-c++/Types.h>
#include <systemd/sd-event.h>
#include <vector>

namespace vpnsteer::wandns {

class ResolvedWatch {
public:
    // `changed` runs from the event loop, never from inside a bus callback. `event` and `bus`
    // must outlive the watch. Throws std::system_error or sdbus::Error.
    ResolvedWatch(sd_event* event, sdbus::IConnection& bus, std::function<void()> changed,
                  std::chrono::milliseconds interval = std::chrono::seconds(5));
    ResolvedWatch(const ResolvedWatch&) = delete;
    ResolvedWatch& operator=(const ResolvedWatch&) = delete;

private:
    static int onSoon(sd_event_source*, std::uint64_t, void* self) noexcept;
    static int onInterval(sd_event_source*, std::uint64_t, void* self) noexcept;
    void soon() noexcept;

    std::function<void()> changed_;
    std::chrono::milliseconds interval_;
    EventSourcePtr soon_;
    EventSourcePtr intervalSource_;
    std::vector<sdbus::Slot> matches_;
};

} // namespace vpnsteer::wandns
