#include "service/wireguard/tunnel_probe.hpp"

#include "service/wireguard/dns_query.hpp"

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <netinet/in.h>
#include <sys/socket.h>
#include <system_error>

namespace vpnsteer::wireguard {

namespace {

struct Target {
    sockaddr_storage server{};
    sockaddr_storage source{};
    socklen_t length = 0;
};

// The first DNS server of a family the VPN has an address of.
bool findTarget(const Vpn& vpn, Target& target) {
    for (const std::string& server : vpn.dns) {
        target = Target{};
        auto* server4 = reinterpret_cast<sockaddr_in*>(&target.server);
        auto* source4 = reinterpret_cast<sockaddr_in*>(&target.source);
        if (vpn.addrV4 && inet_pton(AF_INET, server.c_str(), &server4->sin_addr) == 1 &&
            inet_pton(AF_INET, vpn.addrV4->address.c_str(), &source4->sin_addr) == 1) {
            server4->sin_family = source4->sin_family = AF_INET;
            server4->sin_port = htons(53);
            target.length = sizeof(sockaddr_in);
            return true;
        }
        auto* server6 = reinterpret_cast<sockaddr_in6*>(&target.server);
        auto* source6 = reinterpret_cast<sockaddr_in6*>(&target.source);
        if (vpn.addrV6 && inet_pton(AF_INET6, server.c_str(), &server6->sin6_addr) == 1 &&
            inet_pton(AF_INET6, vpn.addrV6->address.c_str(), &source6->sin6_addr) == 1) {
            server6->sin6_family = source6->sin6_family = AF_INET6;
            server6->sin6_port = htons(53);
            target.length = sizeof(sockaddr_in6);
            return true;
        }
    }
    return false;
}

[[noreturn]] void fail(const Vpn& vpn, const char* what) {
    throw std::system_error(errno, std::generic_category(),
                            std::string(what) + " for the probe through " + vpn.name);
}

} // namespace

void TunnelProbes::send(const Vpn& vpn) {
    Target target;
    if (!findTarget(vpn, target)) {
        return;
    }
    wandns::UniqueFd& socket = sockets_[vpn.name];
    if (!socket) {
        wandns::UniqueFd fresh(
            ::socket(target.server.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
        if (!fresh) {
            fail(vpn, "opening a socket");
        }
        if (::setsockopt(fresh.get(), SOL_SOCKET, SO_BINDTODEVICE, vpn.name.c_str(),
                         static_cast<socklen_t>(vpn.name.size())) < 0) {
            fail(vpn, "binding a socket to the device");
        }
        // IP_FREEBIND: the address may be missing for a moment while networkd reconfigures.
        const int on = 1;
        ::setsockopt(fresh.get(), target.server.ss_family == AF_INET ? IPPROTO_IP : IPPROTO_IPV6,
                     target.server.ss_family == AF_INET ? IP_FREEBIND : IPV6_FREEBIND, &on,
                     sizeof on);
        if (::bind(fresh.get(), reinterpret_cast<const sockaddr*>(&target.source), target.length) <
            0) {
            fail(vpn, "binding a socket to the VPN's address");
        }
        socket = std::move(fresh);
    }
    // Answers of earlier probes are only read away: the counters judge, not they.
    char discard[512];
    while (::recv(socket.get(), discard, sizeof discard, 0) > 0) {
    }
    const auto query = encodeDnsQuery(nextId_++, "probe.invalid", dnsTypeA);
    if (::sendto(socket.get(), query->data(), query->size(), 0,
                 reinterpret_cast<const sockaddr*>(&target.server), target.length) < 0) {
        const int error = errno;
        socket.reset(); // a device that was replaced leaves the socket bound to nothing
        errno = error;
        fail(vpn, "sending a DNS query to the VPN's DNS server");
    }
}

} // namespace vpnsteer::wireguard
