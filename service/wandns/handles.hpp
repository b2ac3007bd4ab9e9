// RAII owners for the C handles the WAN DNS forwarder holds: file descriptors (UniqueFd, the
// one every program shares, from core) and sd-event objects.
#pragma once

#include "core/unique_fd.hpp"

#include <memory>
#include <systemd/sd-event.h>

namespace vpnsteer::wandns {

using vpnsteer::UniqueFd;

struct EventSourceDeleter {
    // Disabling first matters for io sources: the fd they watch is closed right after, and
    // a source that outlived its fd would make sd-event remove a stale fd from epoll.
    void operator()(sd_event_source* source) const { sd_event_source_disable_unref(source); }
};
using EventSourcePtr = std::unique_ptr<sd_event_source, EventSourceDeleter>;

struct EventDeleter {
    void operator()(sd_event* event) const { sd_event_unref(event); }
};
using EventPtr = std::unique_ptr<sd_event, EventDeleter>;

} // namespace vpnsteer::wandns
