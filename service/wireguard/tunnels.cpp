#include "service/wireguard/tunnels.hpp"

#include <cstring>
#include <exception>
#include <syslog.h>

namespace vpnsteer::wireguard {

namespace {

std::optional<IpEndpoint> literalEndpoint(const Endpoint& endpoint) {
    return IpEndpoint::fromLiteral(endpoint.host, endpoint.port);
}

const WireguardPeer* peerAt(const Vpn& vpn, std::size_t index) {
    return index < vpn.peers.size() ? &vpn.peers[index] : nullptr;
}

IpEndpoint endpointOf(const ResolvedAddress& address, std::uint16_t port) {
    IpEndpoint endpoint;
    endpoint.family = address.family;
    endpoint.address = address.address;
    endpoint.port = port;
    return endpoint;
}

PeerCounters countersOf(const PeerStatus* live) {
    return live ? PeerCounters{live->latestHandshake, live->rxBytes, live->txBytes}
                : PeerCounters{};
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
        if (vpn != nullptr && vpn->protocol == Protocol::wireguard) {
            ++it;
            continue;
        }
        forgetProbe(it->first);
        it = tunnels_.erase(it);
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
            // Its probe socket may be bound to an address or aimed at a server it no longer has.
            forgetProbe(name);
            tunnel.endpoint.reset();
            tunnel.lastResolve.reset();
            tunnel.figures.endpoint.clear();
        }
        // A new or changed VPN starts its selection afresh.
        tunnel.selector.reset();
        if (auto failover = vpn.failoverInForce()) {
            GatewaySelector::Random random = system_.random;
            if (!random) {
                random = [](std::size_t) { return std::size_t{0}; };
            }
            tunnel.selector.emplace(vpn.peers.size(), *failover, std::move(random));
        }
        tunnel.figures.peers.clear();
        for (const WireguardPeer& peer : vpn.peers) {
            tunnel.figures.peers.push_back({peer.name, peer.endpoint.toString(),
                                            std::string(toString(PeerResult::untried)), 0});
        }
        tunnel.active = 0;
        tunnel.chosen = !tunnel.selector;
        tunnel.figures.activePeer = tunnel.chosen && !vpn.peers.empty() ? vpn.peers[0].name : "";
        if (tunnel.chosen && !vpn.peers.empty()) {
            if (auto literal = literalEndpoint(vpn.peers[0].endpoint)) {
                tunnel.endpoint = literal;
                tunnel.figures.endpoint = literal->toString();
            }
        }
        // A changed VPN gets its whole configuration again; a new one only what it lacks.
        configure(tunnel, changed);
        const WireguardPeer* peer = tunnel.chosen ? peerAt(vpn, tunnel.active) : nullptr;
        if (peer != nullptr && !literalEndpoint(peer->endpoint) &&
            tunnel.resolving != tunnel.active) {
            startResolve(tunnel);
        }
        // After configure(): that is where a selection makes its first choice.
        announce(tunnel, before);
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
    if (tunnel.device && tunnel.configured && tunnel.chosen) {
        try {
            const DeviceStatus status = tunnel.device->status();
            const WireguardPeer* peer = peerAt(tunnel.vpn, tunnel.active);
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
    forgetProbe(name); // bound to the device that is gone
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
        if (tunnel.selector && tunnel.configured) {
            judge(tunnel);
        }
        const WireguardPeer* peer = tunnel.chosen ? peerAt(tunnel.vpn, tunnel.active) : nullptr;
        if (peer == nullptr || literalEndpoint(peer->endpoint) ||
            tunnel.resolving == tunnel.active) {
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
        if (!tunnel.chosen) {
            choose(tunnel, status);
        }
        const WireguardPeer* peer = peerAt(tunnel.vpn, tunnel.active);
        const auto peerKey = peer ? decodeBase64Key(peer->publicKey) : std::nullopt;
        const bool kernel = tunnel.vpn.implementation == WireguardImplementation::kernel ||
                            device.kind().starts_with("kernel");
        const bool holdsPeer =
            !peerKey || (status.peers.size() == 1 && status.peers[0].publicKey == *peerKey);
        std::string what;
        DeviceChange change;
        if (!kernel) {
            const WireguardKey privateKey = readKeyFile(tunnel.vpn.privateKeyFile);
            const bool holdsOurs = status.publicKey == publicKeyOf(privateKey) &&
                                   status.firewallMark == tunnel.vpn.firewallMark() && holdsPeer;
            if (force || !holdsOurs) {
                change.privateKey = privateKey;
                change.firewallMark = tunnel.vpn.firewallMark();
                what = "gave " + name + " (" + std::string(device.kind()) +
                       ") its key, firewall mark " + std::to_string(tunnel.vpn.firewallMark());
            }
        }
        // networkd gives a kernel device the spec's first peer; a selection may want another.
        if (peerKey &&
            (change.privateKey || (tunnel.selector && (!holdsPeer || tunnel.reinstall)))) {
            PeerSettings settings{*peerKey, tunnel.endpoint, std::nullopt, std::nullopt};
            if (peer->presharedKeyFile) {
                settings.presharedKey = readKeyFile(*peer->presharedKeyFile);
            }
            if (peer->persistentKeepalive) {
                settings.persistentKeepalive =
                    static_cast<std::uint16_t>(*peer->persistentKeepalive);
            }
            change.replacePeer = settings;
            what = (what.empty() ? "gave " + name + " (" + std::string(device.kind()) + ")"
                                 : what + " and") +
                   " peer " + peer->name +
                   (tunnel.endpoint ? " at " + tunnel.endpoint->toString() : "");
        }
        if (change.privateKey || change.replacePeer) {
            device.apply(change);
            if (change.replacePeer) {
                tunnel.reinstall = false;
                // A peer set up from scratch has never handshaken and counted nothing.
                if (tunnel.selector && tunnel.endpoint) {
                    tunnel.selector->installed(PeerCounters{}, system_.now());
                    tunnel.restartJudging = false;
                }
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

// The first choice: the peer the device holds already (vpnsteerd restarted), else the
// selector's.
void WireguardTunnels::choose(Tunnel& tunnel, const DeviceStatus& status) {
    if (status.peers.size() == 1) {
        for (std::size_t i = 0; i < tunnel.vpn.peers.size(); ++i) {
            const auto key = decodeBase64Key(tunnel.vpn.peers[i].publicKey);
            if (key && *key == status.peers[0].publicKey && status.peers[0].endpoint) {
                tunnel.selector->adopt(i);
                tunnel.active = i;
                tunnel.chosen = true;
                tunnel.endpoint = status.peers[0].endpoint;
                tunnel.figures.activePeer = tunnel.vpn.peers[i].name;
                tunnel.figures.endpoint = tunnel.endpoint->toString();
                tunnel.figures.peers[i].endpoint = tunnel.figures.endpoint;
                setResult(tunnel, PeerResult::trying);
                startJudging(tunnel);
                journal_(LOG_INFO, "kept peer " + tunnel.vpn.peers[i].name + " of " +
                                       tunnel.vpn.name + " that the device holds");
                return;
            }
        }
    }
    activate(tunnel, tunnel.selector->nextPeer());
}

// Makes `peer` the active one; configure() installs it.
void WireguardTunnels::activate(Tunnel& tunnel, std::size_t peer) {
    const WireguardPeer& spec = tunnel.vpn.peers.at(peer);
    tunnel.active = peer;
    tunnel.chosen = true;
    tunnel.unresolved = false;
    tunnel.restartJudging = false;
    tunnel.endpoint = literalEndpoint(spec.endpoint);
    if (!tunnel.endpoint) {
        if (auto address = tunnel.selector->takeAddress(peer)) {
            tunnel.endpoint = endpointOf(*address, spec.endpoint.port);
        }
    }
    tunnel.figures.activePeer = spec.name;
    tunnel.figures.endpoint = tunnel.endpoint ? tunnel.endpoint->toString() : "";
    if (tunnel.endpoint) {
        tunnel.figures.peers[peer].endpoint = tunnel.figures.endpoint;
    }
    setResult(tunnel, PeerResult::trying);
    journal_(LOG_NOTICE, "trying peer " + spec.name + " of " + tunnel.vpn.name +
                             (tunnel.endpoint ? " at " + tunnel.endpoint->toString()
                                              : ", resolving " + spec.endpoint.host));
    // A host name whose addresses were all tried is resolved again, through the uplink.
    if (!tunnel.endpoint) {
        tunnel.lastResolve.reset();
        if (tunnel.resolving != peer) {
            startResolve(tunnel);
        }
    } else if (!literalEndpoint(spec.endpoint)) {
        tunnel.lastResolve = system_.now();
    }
}

// The active peer's judging starts from its counters now; from the next sample when the
// device cannot tell.
void WireguardTunnels::startJudging(Tunnel& tunnel) {
    const WireguardPeer* peer = peerAt(tunnel.vpn, tunnel.active);
    const auto key = peer ? decodeBase64Key(peer->publicKey) : std::nullopt;
    tunnel.restartJudging = true;
    if (!tunnel.device || !key) {
        return;
    }
    try {
        tunnel.selector->installed(countersOf(tunnel.device->status().findPeer(*key)),
                                   system_.now());
        tunnel.restartJudging = false;
    } catch (const std::exception&) {
        // judge() tries again with the next sample
    }
}

// Once a second for a VPN with a selector: the active peer's counters decide.
void WireguardTunnels::judge(Tunnel& tunnel) {
    const WireguardPeer* peer = peerAt(tunnel.vpn, tunnel.active);
    const auto key = peer ? decodeBase64Key(peer->publicKey) : std::nullopt;
    if (!tunnel.device || !key) {
        return;
    }
    const Clock::time_point now = system_.now();
    PeerCounters counters;
    try {
        counters = countersOf(tunnel.device->status().findPeer(*key));
    } catch (const std::exception&) {
        return; // the device went away; the link monitor or the next check tells
    }
    if (tunnel.restartJudging) {
        tunnel.restartJudging = false;
        tunnel.selector->installed(counters, now);
    }
    if (!tunnel.endpoint && !tunnel.unresolved) {
        return; // resolving: the judging starts with an address
    }
    const Judgement judgement = tunnel.selector->observe(counters, now);
    if (judgement.becameAlive) {
        const dbus::TunnelFigures before = tunnel.figures;
        setResult(tunnel, PeerResult::alive);
        journal_(LOG_NOTICE, "peer " + peer->name + " of " + tunnel.vpn.name + " answers");
        announce(tunnel, before);
    }
    if (judgement.dead) {
        failOver(tunnel, tunnel.unresolved ? PeerResult::unresolved : *judgement.dead);
        return;
    }
    if (judgement.probe && system_.probe) {
        try {
            system_.probe(tunnel.vpn);
        } catch (const std::exception& error) {
            failed(tunnel, std::string(error.what()) + ", ignoring");
        }
    }
}

void WireguardTunnels::failOver(Tunnel& tunnel, PeerResult result) {
    const dbus::TunnelFigures before = tunnel.figures;
    const WireguardPeer& peer = tunnel.vpn.peers.at(tunnel.active);
    const FailoverSettings& settings = tunnel.selector->settings();
    setResult(tunnel, result);
    const std::string why =
        result == PeerResult::noHandshake
            ? "no handshake within " + std::to_string(settings.handshakeTimeout) + " s"
        : result == PeerResult::silent
            ? "nothing received for " + std::to_string(settings.silenceTimeout) + " s"
            : "its host name " + peer.endpoint.host + " does not resolve";
    journal_(LOG_WARNING,
             "peer " + peer.name + " of " + tunnel.vpn.name + " (" +
                 (tunnel.endpoint ? tunnel.endpoint->toString() : peer.endpoint.toString()) +
                 ") is dead: " + why);
    if (result == PeerResult::noHandshake && system_.clock != nullptr) {
        const std::string vpn = tunnel.vpn.name;
        system_.clock->askSynchronized([this, vpn](std::optional<bool> synchronized) {
            if (synchronized == false) {
                journal_(LOG_WARNING,
                         "the system clock is not synchronized (timedated: NTPSynchronized is "
                         "false): WireGuard gateways refuse handshakes from a clock that went "
                         "backwards, so the gateways of " +
                             vpn + " may be fine; check the time (timedatectl)");
            }
        });
    }
    activate(tunnel, tunnel.selector->nextPeer());
    // The next may be the same peer (a VPN of one): installed afresh all the same.
    tunnel.reinstall = true;
    configure(tunnel, false);
    announce(tunnel, before);
}

void WireguardTunnels::setResult(Tunnel& tunnel, PeerResult result) {
    dbus::PeerFigures& figures = tunnel.figures.peers.at(tunnel.active);
    figures.result = std::string(toString(result));
    figures.since = system_.wallSeconds ? system_.wallSeconds() : 0;
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
    tunnel.resolving = tunnel.active;
    tunnel.lastResolve = system_.now();
    const std::string name = tunnel.vpn.name;
    const std::size_t peer = tunnel.active;
    const std::string host = tunnel.vpn.peers.at(peer).endpoint.host;
    system_.resolver->resolve(host, wan_, [this, name, peer, host](ResolveResult result) {
        resolved(name, peer, host, std::move(result));
    });
}

void WireguardTunnels::resolved(const std::string& name, std::size_t index, const std::string& host,
                                ResolveResult result) {
    auto it = tunnels_.find(name);
    if (it == tunnels_.end()) {
        return;
    }
    Tunnel& tunnel = it->second;
    if (tunnel.resolving == index) {
        tunnel.resolving.reset();
    }
    const WireguardPeer* peer = peerAt(tunnel.vpn, index);
    if (peer == nullptr || peer->endpoint.host != host) {
        return; // the spec changed meanwhile
    }
    if (tunnel.selector && !result.addresses.empty()) {
        tunnel.selector->resolvedAddresses(index, result.addresses);
    }
    if (index != tunnel.active) {
        return; // the selection moved on meanwhile (and asked for its own answer)
    }
    if (result.addresses.empty()) {
        failed(tunnel, "resolving " + host + " for " + name + ": " + result.error +
                           (tunnel.endpoint ? "; keeping " + tunnel.endpoint->toString()
                                            : "; trying again"));
        if (!tunnel.endpoint && !tunnel.selector) {
            tunnel.lastResolve.reset(); // no endpoint at all: the next tick asks again
        } else if (!tunnel.endpoint && !tunnel.unresolved) {
            // Judged like a peer that does not handshake, so that a name that never
            // resolves costs handshakeTimeout, not a busy loop of queries.
            tunnel.unresolved = true;
            startJudging(tunnel);
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
    std::optional<ResolvedAddress> address = result.addresses.front();
    if (tunnel.selector) {
        address = tunnel.selector->takeAddress(index);
    }
    if (address) {
        useEndpoint(tunnel, endpointOf(*address, peer->endpoint.port));
    }
}

void WireguardTunnels::useEndpoint(Tunnel& tunnel, const IpEndpoint& endpoint) {
    const dbus::TunnelFigures before = tunnel.figures;
    const std::string previous = tunnel.endpoint ? tunnel.endpoint->toString() : "none";
    tunnel.endpoint = endpoint;
    tunnel.unresolved = false;
    tunnel.figures.endpoint = endpoint.toString();
    if (tunnel.active < tunnel.figures.peers.size()) {
        tunnel.figures.peers[tunnel.active].endpoint = tunnel.figures.endpoint;
    }
    journal_(LOG_NOTICE, tunnel.vpn.peers.at(tunnel.active).endpoint.host + " (" + tunnel.vpn.name +
                             ") now resolves to " + endpoint.toString() + ", was " + previous);
    if (tunnel.configured && tunnel.device) {
        configure(tunnel, false);
    }
    // Another address is another chance: judged from now on.
    if (tunnel.selector) {
        startJudging(tunnel);
    }
    announce(tunnel, before);
}

void WireguardTunnels::failed(Tunnel& tunnel, const std::string& text) {
    if (text != tunnel.lastError) {
        journal_(LOG_ERR, text);
        tunnel.lastError = text;
    }
}

void WireguardTunnels::forgetProbe(const std::string& name) {
    if (system_.forgetProbe) {
        system_.forgetProbe(name);
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
    if (tunnel.figures.activePeer != before.activePeer) {
        changed.push_back("ActivePeer");
    }
    if (tunnel.figures.peers != before.peers) {
        changed.push_back("Peers");
    }
    if (!changed.empty() && announce_) {
        announce_(tunnel.vpn.name, changed);
    }
}

} // namespace vpnsteer::wireguard
