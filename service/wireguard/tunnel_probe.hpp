// The probe that lets vpnsteerd judge an idle tunnel (gateway_selector.hpp): one DNS query
// for "probe.invalid" to the VPN's first DNS server, sent into the tunnel itself.
//
// The socket is bound to the tunnel device (SO_BINDTODEVICE) and to the VPN's own address
// of the server's family, so the query can leave through the tunnel only, never the uplink,
// whatever the routing rules say at that moment: with no route through the device in the
// table looked up, the kernel still sends a device-bound socket's packet out of that device.
// RFC 6761 has resolvers answer *.invalid at once with NXDOMAIN, so the answer costs the
// provider nothing. Whether an answer comes is not read here: the peer's receive counter
// tells. One socket per VPN stays open so that answers find it (no ICMP port unreachable
// back into the tunnel), until WireguardTunnels says to forget it (the VPN left the spec or
// changed, or its device went); a socket whose device was replaced unnoticed fails to send
// and is opened afresh on the next probe.
#pragma once

#include "core/spec.hpp"
#include "service/wandns/handles.hpp"

#include <cstdint>
#include <map>
#include <string>

namespace vpnsteer::wireguard {

class TunnelProbes {
public:
    // Throws std::system_error naming the VPN and what failed. Does nothing for a VPN
    // without a DNS server of a family it has an address of.
    void send(const Vpn& vpn);
    // Closes the socket of the VPN called `name`, if it has one.
    void forget(const std::string& name) noexcept { sockets_.erase(name); }

private:
    std::map<std::string, wandns::UniqueFd> sockets_;
    std::uint16_t nextId_ = 1;
};

} // namespace vpnsteer::wireguard
