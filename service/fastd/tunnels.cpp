#include "service/fastd/tunnels.hpp"

#include "service/fastd/status.hpp"

#include <syslog.h>

namespace vpnsteer::fastd {

FastdTunnels::FastdTunnels(FastdSystem system, std::string fastdDir, dbus::Journal journal,
                           Announce announce)
    : system_(std::move(system))
    , fastdDir_(std::move(fastdDir))
    , journal_(std::move(journal))
    , announce_(std::move(announce)) {}

rules::KernelReport FastdTunnels::specApplied(const Spec& spec) {
    std::map<std::string, Tunnel> next;
    for (const auto& [name, vpn] : spec.vpns) {
        if (!vpn.fastd) {
            continue;
        }
        Tunnel tunnel;
        if (auto found = tunnels_.find(name); found != tunnels_.end()) {
            tunnel = std::move(found->second);
        }
        const dbus::TunnelFigures before = tunnel.figures;
        tunnel.vpn = vpn;
        tunnel.figures.transportMode =
            vpn.fastd->configurable ? std::string(toString(modeInForce(vpn))) : "";
        read(tunnel);
        announce(tunnel, before);
        next.emplace(name, std::move(tunnel));
    }
    tunnels_ = std::move(next);
    return {};
}

std::optional<dbus::TunnelFigures> FastdTunnels::tunnelFigures(const std::string& vpn) {
    const auto found = tunnels_.find(vpn);
    if (found == tunnels_.end()) {
        return std::nullopt;
    }
    return found->second.figures;
}

void FastdTunnels::setTransportMode(const Vpn& vpn, FastdTransportMode mode) {
    system_.modes.save(vpn.name, mode);
    // The unit reads the stored mode when it starts (EnvironmentFile=).
    system_.units.restart(filenames::fastdUnit(vpn.name));
    if (auto found = tunnels_.find(vpn.name); found != tunnels_.end()) {
        const dbus::TunnelFigures before = found->second.figures;
        found->second.figures.transportMode = std::string(toString(mode));
        announce(found->second, before);
    }
}

void FastdTunnels::tick() noexcept {
    for (auto& [name, tunnel] : tunnels_) {
        try {
            const dbus::TunnelFigures before = tunnel.figures;
            read(tunnel);
            announce(tunnel, before);
        } catch (const std::exception& error) {
            journal_(LOG_WARNING, "fastd VPN " + name + ": " + error.what());
        }
    }
}

void FastdTunnels::read(Tunnel& tunnel) {
    const std::string path = filenames::fastdStatusSocket(fastdDir_, tunnel.vpn.name);
    FastdStatus status;
    try {
        status = parseStatus(system_.status.read(path));
        if (tunnel.unreadable) {
            journal_(LOG_INFO, "fastd VPN " + tunnel.vpn.name + ": reading its status again");
        }
        tunnel.unreadable = false;
    } catch (const std::exception& error) {
        // fastd is not running (yet, or while its unit restarts): no connection.
        if (!tunnel.unreadable) {
            journal_(LOG_INFO, "fastd VPN " + tunnel.vpn.name + ": " + error.what() +
                                   "; showing it as not connected");
        }
        tunnel.unreadable = true;
    }
    dbus::TunnelFigures& figures = tunnel.figures;
    const bool sameConnection =
        figures.connectedPeer == status.connectedPeer && figures.method == status.method;
    figures.connectedPeer = status.connectedPeer;
    figures.method = status.method;
    figures.endpoint = status.address;
    figures.rxBytes = status.rxBytes;
    figures.txBytes = status.txBytes;
    if (status.connectedPeer.empty()) {
        figures.established = 0;
    } else {
        const std::uint64_t now = system_.wallSeconds();
        const std::uint64_t since = now - std::min(now, status.establishedMilliseconds / 1000);
        // fastd counts in milliseconds and we in seconds: a second either way is the same
        // connection, not a new one to announce.
        if (!sameConnection || figures.established == 0 || since > figures.established + 1 ||
            since + 1 < figures.established) {
            figures.established = since;
        }
    }
}

FastdTransportMode FastdTunnels::modeInForce(const Vpn& vpn) {
    try {
        if (auto stored = system_.modes.load(vpn.name)) {
            return *stored;
        }
    } catch (const std::exception& error) {
        journal_(LOG_WARNING, "fastd VPN " + vpn.name + ": " + error.what());
    }
    return vpn.fastd->transportMode;
}

void FastdTunnels::announce(const Tunnel& tunnel, const dbus::TunnelFigures& before) {
    const dbus::TunnelFigures& after = tunnel.figures;
    std::vector<std::string> changed;
    if (after.connectedPeer != before.connectedPeer) {
        changed.emplace_back("ConnectedPeer");
    }
    if (after.method != before.method) {
        changed.emplace_back("Method");
    }
    if (after.established != before.established) {
        changed.emplace_back("Established");
    }
    if (after.endpoint != before.endpoint) {
        changed.emplace_back("Endpoint");
    }
    if (after.transportMode != before.transportMode) {
        changed.emplace_back("TransportMode");
    }
    if (!changed.empty() && announce_) {
        announce_(tunnel.vpn.name, changed);
    }
}

} // namespace vpnsteer::fastd
