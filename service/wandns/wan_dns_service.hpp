// The WAN DNS forwarder as vpnsteerd hosts it (DESIGN.md, "Uplink only"): it follows the spec
// (wan.dns.listen, wan.mark, wan.dns.servers) at start and on every Reload, and, when the spec
// names no servers, the uplink's DNS servers as systemd-resolved knows them
// (uplink_servers.hpp), read again whenever refreshUplink() is called.
//
// Nothing it meets stops vpnsteerd: a listen address that cannot be bound, or resolved not
// running, is reported (what failed and what happens next), and the rest keeps working.
#pragma once

#include "core/spec.hpp"
#include "service/dbus/manager_object.hpp"
#include "service/resolved/link_dns.hpp"
#include "service/wandns/forwarder.hpp"

#include <functional>
#include <memory>
#include <string>
#include <systemd/sd-event.h>
#include <vector>

namespace vpnsteer::wandns {

enum class UpstreamSource { spec, resolved, none };
std::string_view toString(UpstreamSource source); // "spec", "systemd-resolved", "none"

class WanDnsService final : public dbus::SpecFollower {
public:
    // `event` runs the forwarder; `links` is where the uplink's servers are read (resolved);
    // `journal` hears what refreshUplink() changed or found broken; `changed` is called after
    // anything the D-Bus object shows (Listen, Upstreams, UpstreamSource, FirewallMark)
    // changed. All must outlive the service. `tuning` gives the forwarder's bounds and
    // timeouts; its listen and mark come from the spec.
    WanDnsService(sd_event* event, resolved::LinkDnsApi& links, dbus::Journal journal,
                  ForwarderSettings tuning = {});
    ~WanDnsService() override;

    rules::KernelReport specApplied(const Spec& spec) override;
    // Reads the uplink's servers again when they are what the forwarder uses. Never throws.
    void refreshUplink() noexcept;
    void onChanged(std::function<void()> changed) { changed_ = std::move(changed); }

    // What the D-Bus object shows. Empty or zero while the forwarder is not running.
    std::vector<SocketAddress> listening() const;
    std::vector<SocketAddress> upstreams() const { return upstreams_; }
    UpstreamSource upstreamSource() const { return source_; }
    std::uint32_t mark() const { return settings_.mark; }
    ForwarderCounters counters() const;
    std::size_t queriesInFlight() const;

private:
    // The forwarder for `settings_`, started anew (its listen addresses are taken first by the
    // old one). Reports what it did.
    void restart(rules::KernelReport& report);
    // Makes upstreams_ and source_ what `spec_` says, reporting a change in either.
    void updateUpstreams(rules::KernelReport& report);
    void announce() noexcept;

    sd_event* event_;
    resolved::LinkDnsApi& links_;
    dbus::Journal journal_;
    std::function<void()> changed_;
    ForwarderSettings settings_;
    Spec spec_;
    std::unique_ptr<WanDnsForwarder> forwarder_;
    std::vector<SocketAddress> upstreams_;
    UpstreamSource source_ = UpstreamSource::none;
    std::string resolvedProblem_; // the last reason resolved gave none, not to repeat it
};

} // namespace vpnsteer::wandns
