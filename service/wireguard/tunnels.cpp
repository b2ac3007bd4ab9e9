#include "service/wireguard/tunnels.hpp"

#include <cstring>
#include <exception>
#include <syslog.h>

namespace vpnsteer::wireguard {

namespace {

// Only the first peer is used for now: the spec allows several gateways, one active at a
// time, and choosing among them is the uplink issue's gateway selection.
const WireguardPeer* activePeer(const Vpn& vpn) {
    return vpn.peers.empty() ? nullptr : &vpn.peers.front();
}

std::optional<IpEndpoint> literalEndpoint(const Endpoint& endpoint) {
    return IpEndpoint::fromLiteral(endpoint.host, endpoint.port);
}

} // namespace

WireguardTunnels::WireguardTunnels(TunnelsSystem system, TunnelsSettings settings,
                                   dbus::Journal journal, Announce announce)
    : system_(std::move(system))
    , settings_(settings)
    , journal_(std::move(journal))
    , announce_(std::move(announce)) {}

rules::KernelReport WireguardTunnels::specApplied(const Spec& spec) {
    wan_ = spec.wan;
    for (auto it = tunnels_.begin(); it != tunnels_.end();) {
        const Vpn* vpn = spec.find(it->first);
        it = vpn != nullptr && vpn->protocol == Protocol::wireguard ? std::next(it)
                                                                    : tunnels_.erase(it);
    }
    for (const auto& [name, vpn] : spec.vpns) {
        if (vpn.protocol != Protocol::wireguard) {
            continue;
        }
        auto [it, added] = tunnels_.try_emplace(name);
        Tunnel& tunnel = it->second;
        const bool changed = !added && !(tunnel.vpn == vpn);
        if (!added && !changed) {
            continue;
        }
        const dbus::TunnelFigures before = tunnel.figures;
        tunnel.vpn = vpn;
        tunnel.lastError.clear();
        try {
            tunnel.publicKey = toBase64(publicKeyOf(readKeyFile(vpn.privateKeyFile)));
        } catch (const std::exception& error) {
            tunnel.publicKey.clear();
            failed(tunnel, std::string(error.what()) + ", trying again");
        }
        tunnel.figures.publicKey = tunnel.publicKey;
        if (changed) {
            tunnel.endpoint.reset();
            tunnel.lastResolve.reset();
            tunnel.figures.endpoint.clear();
        }
        if (const WireguardPeer* peer = activePeer(vpn)) {
            if (auto literal = literalEndpoint(peer->endpoint)) {
                tunnel.endpoint = literal;
                tunnel.figures.endpoint = literal->toString();
            }
        }
        announce(tunnel, before);
        // A changed VPN gets its whole configuration again; a new one only what it lacks.
        configure(tunnel, changed);
        const WireguardPeer* peer = activePeer(vpn);
        if (peer != nullptr && !literalEndpoint(peer->endpoint) && !tunnel.resolving) {
            startResolve(tunnel);
        }
    }
    return {};
}

std::optional<dbus::TunnelFigures> WireguardTunnels::tunnelFigures(const std::string& vpn) {
    auto it = tunnels_.find(vpn);
    if (it == tunnels_.end()) {
        return std::nullopt;
    }
    // The counters are read live: cheap for both implementations, and only on demand.
    Tunnel& tunnel = it->second;
    if (tunnel.device && tunnel.configured) {
        try {
            const DeviceStatus status = tunnel.device->status();
            const WireguardPeer* peer = activePeer(tunnel.vpn);
            auto key = peer ? decodeBase64Key(peer->publicKey) : std::nullopt;
            if (const PeerStatus* live = key ? status.findPeer(*key) : nullptr) {
                tunnel.figures.latestHandshake = live->latestHandshake;
                tunnel.figures.rxBytes = live->rxBytes;
                tunnel.figures.txBytes = live->txBytes;
            }
        } catch (const std::exception&) {
            // The device went away; the next check notices and says so.
        }
    }
    return tunnel.figures;
}

void WireguardTunnels::linkAppeared(const std::string& name, unsigned index) noexcept {
    auto it = tunnels_.find(name);
    if (it == tunnels_.end() || it->second.index == index) {
        return;
    }
    configure(it->second, false);
}

void WireguardTunnels::linkRemoved(const std::string& name, unsigned index) noexcept {
    auto it = tunnels_.find(name);
    if (it == tunnels_.end() || it->second.index != index) {
        return;
    }
    Tunnel& tunnel = it->second;
    tunnel.index = 0;
    tunnel.device.reset();
    tunnel.configured = false;
    journal_(LOG_NOTICE,
             "the WireGuard device " + name + " is gone; configuring it again when it is back");
}

void WireguardTunnels::tick() noexcept {
    const Clock::time_point now = system_.now();
    for (auto& [name, tunnel] : tunnels_) {
        if (!tunnel.configured) {
            configure(tunnel, false);
        } else if (now >= tunnel.nextCheck) {
            check(tunnel);
        }
        const WireguardPeer* peer = activePeer(tunnel.vpn);
        if (peer == nullptr || literalEndpoint(peer->endpoint) || tunnel.resolving) {
            continue;
        }
        const bool due =
            !tunnel.lastResolve || now - *tunnel.lastResolve >= settings_.resolveInterval;
        // A stale handshake re-resolves early, but not more often than every check.
        const std::uint64_t handshake = tunnel.figures.latestHandshake;
        const std::uint64_t wall = system_.wallSeconds ? system_.wallSeconds() : 0;
        const bool stale = tunnel.configured && handshake != 0 &&
                           wall > handshake + static_cast<std::uint64_t>(staleHandshakeAge.count());
        const bool staleDue =
            stale && tunnel.lastResolve && now - *tunnel.lastResolve >= settings_.checkInterval;
        if (due || staleDue) {
            startResolve(tunnel);
        }
    }
}

void WireguardTunnels::configure(Tunnel& tunnel, bool force) {
    const std::string& name = tunnel.vpn.name;
    const unsigned index = system_.interfaceIndex ? system_.interfaceIndex(name) : 0;
    if (index == 0) {
        tunnel.index = 0;
        tunnel.device.reset();
        tunnel.configured = false;
        return; // no device yet: linkAppeared brings it
    }
    try {
        if (!tunnel.device || tunnel.index != index) {
            tunnel.device = system_.openDevice(tunnel.vpn);
            tunnel.index = index;
            tunnel.configured = false;
            force = false;
        }
        WireguardDevice& device = *tunnel.device;
        const DeviceStatus status = device.status();
        const WireguardPeer* peer = activePeer(tunnel.vpn);
        const auto peerKey = peer ? decodeBase64Key(peer->publicKey) : std::nullopt;
        const bool kernel = tunnel.vpn.implementation == WireguardImplementation::kernel ||
                            device.kind().starts_with("kernel");
        std::string what;
        if (!kernel) {
            const WireguardKey privateKey = readKeyFile(tunnel.vpn.privateKeyFile);
            const bool holdsOurs =
                status.publicKey == publicKeyOf(privateKey) &&
                status.firewallMark == tunnel.vpn.firewallMark() &&
                (!peerKey || (status.peers.size() == 1 && status.peers[0].publicKey == *peerKey));
            if (force || !holdsOurs) {
                DeviceChange change;
                change.privateKey = privateKey;
                change.firewallMark = tunnel.vpn.firewallMark();
                if (peerKey) {
                    PeerSettings settings{*peerKey, tunnel.endpoint, std::nullopt, std::nullopt};
                    if (peer->presharedKeyFile) {
                        settings.presharedKey = readKeyFile(*peer->presharedKeyFile);
                    }
                    if (peer->persistentKeepalive) {
                        settings.persistentKeepalive =
                            static_cast<std::uint16_t>(*peer->persistentKeepalive);
                    }
                    change.replacePeer = settings;
                }
                device.apply(change);
                what = "gave " + name + " (" + std::string(device.kind()) +
                       ") its key, firewall mark " + std::to_string(tunnel.vpn.firewallMark()) +
                       (peer ? " and peer " + peer->name : "") +
                       (tunnel.endpoint ? " at " + tunnel.endpoint->toString() : "");
            }
        }
        // The endpoint: wireguard-go got it above; an adopted or kernel device may hold an
        // older one.
        if (peerKey && tunnel.endpoint) {
            const PeerStatus* live = status.findPeer(*peerKey);
            if (what.empty() && live != nullptr && live->endpoint != tunnel.endpoint) {
                device.updateEndpoint(*peerKey, *tunnel.endpoint);
                what = "moved " + name + "'s peer " + peer->name + " to " +
                       tunnel.endpoint->toString();
            }
        }
        tunnel.configured = true;
        tunnel.lastError.clear();
        tunnel.nextCheck = system_.now() + settings_.checkInterval;
        if (!what.empty()) {
            journal_(LOG_INFO, what);
        }
    } catch (const std::exception& error) {
        tunnel.configured = false;
        failed(tunnel, std::string(error.what()) + ", trying again");
    }
}

void WireguardTunnels::check(Tunnel& tunnel) {
    tunnel.nextCheck = system_.now() + settings_.checkInterval;
    const dbus::TunnelFigures before = tunnel.figures;
    tunnelFigures(tunnel.vpn.name);
    // Someone else (`wg set`, a restarted wireguard-go under the same index) may have
    // changed the device: configure() puts back what is missing and nothing else.
    configure(tunnel, false);
    announce(tunnel, before);
}

void WireguardTunnels::startResolve(Tunnel& tunnel) {
    if (system_.resolver == nullptr) {
        return;
    }
    tunnel.resolving = true;
    tunnel.lastResolve = system_.now();
    const std::string name = tunnel.vpn.name;
    const std::string host = activePeer(tunnel.vpn)->endpoint.host;
    system_.resolver->resolve(host, wan_, [this, name, host](ResolveResult result) {
        resolved(name, host, std::move(result));
    });
}

void WireguardTunnels::resolved(const std::string& name, const std::string& host,
                                ResolveResult result) {
    auto it = tunnels_.find(name);
    if (it == tunnels_.end()) {
        return;
    }
    Tunnel& tunnel = it->second;
    tunnel.resolving = false;
    const WireguardPeer* peer = activePeer(tunnel.vpn);
    if (peer == nullptr || peer->endpoint.host != host) {
        return; // the spec changed meanwhile
    }
    if (result.addresses.empty()) {
        failed(tunnel, "resolving " + host + " for " + name + ": " + result.error +
                           (tunnel.endpoint ? "; keeping " + tunnel.endpoint->toString()
                                            : "; trying again"));
        if (!tunnel.endpoint) {
            tunnel.lastResolve.reset(); // no endpoint at all: the next tick asks again
        }
        return;
    }
    // The address in use stays while the name still has it: no flapping between several.
    for (const ResolvedAddress& address : result.addresses) {
        if (tunnel.endpoint && tunnel.endpoint->family == address.family &&
            tunnel.endpoint->address == address.address) {
            return;
        }
    }
    IpEndpoint endpoint;
    endpoint.family = result.addresses.front().family;
    endpoint.address = result.addresses.front().address;
    endpoint.port = peer->endpoint.port;
    useEndpoint(tunnel, endpoint);
}

void WireguardTunnels::useEndpoint(Tunnel& tunnel, const IpEndpoint& endpoint) {
    const dbus::TunnelFigures before = tunnel.figures;
    const std::string previous = tunnel.endpoint ? tunnel.endpoint->toString() : "none";
    tunnel.endpoint = endpoint;
    tunnel.figures.endpoint = endpoint.toString();
    journal_(LOG_NOTICE, activePeer(tunnel.vpn)->endpoint.host + " (" + tunnel.vpn.name +
                             ") now resolves to " + endpoint.toString() + ", was " + previous);
    if (tunnel.configured && tunnel.device) {
        configure(tunnel, false);
    }
    announce(tunnel, before);
}

void WireguardTunnels::failed(Tunnel& tunnel, const std::string& text) {
    if (text != tunnel.lastError) {
        journal_(LOG_ERR, text);
        tunnel.lastError = text;
    }
}

void WireguardTunnels::announce(Tunnel& tunnel, const dbus::TunnelFigures& before) {
    std::vector<std::string> changed;
    if (tunnel.figures.publicKey != before.publicKey) {
        changed.push_back("PublicKey");
    }
    if (tunnel.figures.endpoint != before.endpoint) {
        changed.push_back("Endpoint");
    }
    if (!changed.empty() && announce_) {
        announce_(tunnel.vpn.name, changed);
    }
}

} // namespace vpnsteer::wireguard
