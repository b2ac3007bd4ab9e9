// An IPv4 or IPv6 address with a port, as the forwarder listens on and sends to: the
// spec's `wan.dns.listen` and `wan.dns.servers`, or the uplink's DNS servers that
// systemd-resolved reports (which may be link-local, hence the scope id).
#pragma once

#include "core/spec.hpp"

#include <cstdint>
#include <netinet/in.h>
#include <span>
#include <string>
#include <string_view>
#include <sys/socket.h>

namespace vpnsteer::wandns {

class SocketAddress {
public:
    SocketAddress() = default;

    // "192.0.2.53", "192.0.2.53:5353", "2001:db8::53", "[2001:db8::53]:5353",
    // "[fe80::1%eth0]:53". Only IP literals: the forwarder must not depend on a resolver.
    // Throws std::invalid_argument quoting `text`.
    static SocketAddress parse(std::string_view text, std::uint16_t defaultPort);
    // A spec endpoint whose host is an IP literal; throws std::invalid_argument otherwise.
    static SocketAddress fromEndpoint(const Endpoint& endpoint);
    // Raw address bytes (4 or 16) as systemd-resolved's DNS properties carry them.
    static SocketAddress fromBytes(int family, std::span<const std::uint8_t> address,
                                   std::uint16_t port, std::uint32_t scopeId = 0);
    // What recvfrom()/getsockname() filled in; an unknown family gives an empty address.
    static SocketAddress fromSockaddr(const sockaddr* address, socklen_t length);

    int family() const { return storage_.ss_family; }
    bool empty() const { return length_ == 0; }
    std::uint16_t port() const;
    const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&storage_); }
    socklen_t length() const { return length_; }

    // 127.0.0.0/8, ::1 and IPv4-mapped 127.0.0.0/8: the only clients the forwarder serves.
    bool isLoopback() const;

    // "192.0.2.53:53", "[2001:db8::53]:53", "[fe80::1%2]:53"
    std::string toString() const;

    // Same family, address, port (and scope for IPv6).
    bool operator==(const SocketAddress& other) const;

private:
    sockaddr_storage storage_{};
    socklen_t length_ = 0;
};

} // namespace vpnsteer::wandns
