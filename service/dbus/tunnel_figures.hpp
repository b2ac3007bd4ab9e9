// The live figures of a VPN's tunnel that org.vpnsteer1.Vpn shows (PublicKey, Endpoint,
// LatestHandshake, RxBytes, TxBytes, ActivePeer, Peers, and fastd's). service/wireguard and
// service/fastd keep them; the D-Bus objects only read them, so the objects stay free of any
// device code.
#pragma once

#include "core/spec.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace vpnsteer::dbus {

// One gateway of the VPN and the latest judgement of it (service/wireguard/gateway_selector.hpp).
struct PeerFigures {
    std::string name;
    std::string endpoint;    // the address last tried; the spec's host:port before
    std::string result;      // "untried", "trying", "alive", "no handshake", "silent", "unresolved"
    std::uint64_t since = 0; // seconds since the epoch of that result; 0 while untried

    bool operator==(const PeerFigures&) const = default;
};

struct TunnelFigures {
    std::string publicKey; // base64; "" while unknown
    std::string endpoint;  // the address in use, "192.0.2.1:51820"; "" while unknown
    std::uint64_t latestHandshake = 0;
    std::uint64_t rxBytes = 0;
    std::uint64_t txBytes = 0;
    std::string activePeer;         // its name; "" while none is chosen
    std::vector<PeerFigures> peers; // in spec order

    // fastd (service/fastd): the connected peer's name, its method, when the connection was
    // established (seconds since the epoch, 0 for none), and a configurable VPN's mode.
    std::string connectedPeer;
    std::string method;
    std::uint64_t established = 0;
    std::string transportMode;

    bool operator==(const TunnelFigures&) const = default;
};

class TunnelFiguresSource {
public:
    // nullopt for a VPN it does not know (a fastd one, say). Never throws.
    virtual std::optional<TunnelFigures> tunnelFigures(const std::string& vpn) = 0;

protected:
    ~TunnelFiguresSource() = default;
};

// What SetTransportMode asks of service/fastd once the D-Bus boundary has checked the call:
// store `mode` for the configurable fastd VPN `vpn` and restart its tunnel. Throws
// std::exception (a failure to store or to restart).
class TransportModeControl {
public:
    virtual void setTransportMode(const Vpn& vpn, FastdTransportMode mode) = 0;

protected:
    ~TransportModeControl() = default;
};

} // namespace vpnsteer::dbus
