#include "service/wandns/socket_address.hpp"

#include <arpa/inet.h>
#include <charconv>
#include <cstring>
#include <net/if.h>
#include <stdexcept>

namespace vpnsteer::wandns {

namespace {

std::invalid_argument badAddress(std::string_view text, std::string_view why) {
    return std::invalid_argument("\"" + std::string(text) + "\": " + std::string(why));
}

std::uint16_t parsePort(std::string_view whole, std::string_view port) {
    unsigned value = 0;
    const auto* end = port.data() + port.size();
    const auto [last, error] = std::from_chars(port.data(), end, value);
    if (port.empty() || error != std::errc() || last != end || value > 65535) {
        throw badAddress(whole, "port must be 0..65535, got \"" + std::string(port) + "\"");
    }
    return static_cast<std::uint16_t>(value);
}

// "fe80::1%eth0" or "fe80::1%2": the interface's index.
std::uint32_t parseScope(std::string_view whole, std::string_view scope) {
    std::uint32_t index = 0;
    const auto* end = scope.data() + scope.size();
    const auto [last, error] = std::from_chars(scope.data(), end, index);
    if (!scope.empty() && error == std::errc() && last == end) {
        return index;
    }
    const std::string name(scope);
    index = name.empty() ? 0 : ::if_nametoindex(name.c_str());
    if (index == 0) {
        throw badAddress(whole, "no interface \"" + name + "\"");
    }
    return index;
}

} // namespace

SocketAddress SocketAddress::parse(std::string_view text, std::uint16_t defaultPort) {
    std::string_view host = text;
    std::uint16_t port = defaultPort;
    bool bracketed = false;
    if (!host.empty() && host.front() == '[') {
        const auto close = host.find(']');
        if (close == std::string_view::npos) {
            throw badAddress(text, "missing ']'");
        }
        const auto rest = host.substr(close + 1);
        if (!rest.empty()) {
            if (rest.front() != ':') {
                throw badAddress(text, "expected ':PORT' after ']'");
            }
            port = parsePort(text, rest.substr(1));
        }
        host = host.substr(1, close - 1);
        bracketed = true;
    } else if (const auto colon = host.find(':');
               colon != std::string_view::npos &&
               host.find(':', colon + 1) == std::string_view::npos) {
        port = parsePort(text, host.substr(colon + 1));
        host = host.substr(0, colon);
    }

    SocketAddress result;
    const std::string hostString(host);
    if (!bracketed && host.find(':') == std::string_view::npos) {
        auto* v4 = reinterpret_cast<sockaddr_in*>(&result.storage_);
        if (::inet_pton(AF_INET, hostString.c_str(), &v4->sin_addr) != 1) {
            throw badAddress(text, "not an IPv4 or IPv6 address");
        }
        v4->sin_family = AF_INET;
        v4->sin_port = htons(port);
        result.length_ = sizeof(sockaddr_in);
        return result;
    }
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&result.storage_);
    const auto percent = hostString.find('%');
    const std::string address = hostString.substr(0, percent);
    if (::inet_pton(AF_INET6, address.c_str(), &v6->sin6_addr) != 1) {
        throw badAddress(text, "not an IPv6 address");
    }
    if (percent != std::string::npos) {
        v6->sin6_scope_id = parseScope(text, std::string_view(hostString).substr(percent + 1));
    }
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    result.length_ = sizeof(sockaddr_in6);
    return result;
}

SocketAddress SocketAddress::fromEndpoint(const Endpoint& endpoint) {
    const std::string text = endpoint.hostIsIpv6 || endpoint.host.find(':') != std::string::npos
                                 ? "[" + endpoint.host + "]:" + std::to_string(endpoint.port)
                                 : endpoint.host + ":" + std::to_string(endpoint.port);
    return parse(text, endpoint.port);
}

SocketAddress SocketAddress::fromBytes(int family, std::span<const std::uint8_t> address,
                                       std::uint16_t port, std::uint32_t scopeId) {
    SocketAddress result;
    if (family == AF_INET && address.size() == 4) {
        auto* v4 = reinterpret_cast<sockaddr_in*>(&result.storage_);
        v4->sin_family = AF_INET;
        v4->sin_port = htons(port);
        std::memcpy(&v4->sin_addr, address.data(), 4);
        result.length_ = sizeof(sockaddr_in);
    } else if (family == AF_INET6 && address.size() == 16) {
        auto* v6 = reinterpret_cast<sockaddr_in6*>(&result.storage_);
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(port);
        v6->sin6_scope_id = scopeId;
        std::memcpy(&v6->sin6_addr, address.data(), 16);
        result.length_ = sizeof(sockaddr_in6);
    } else {
        throw std::invalid_argument("address family " + std::to_string(family) + " with " +
                                    std::to_string(address.size()) + " bytes is not IPv4 or IPv6");
    }
    return result;
}

SocketAddress SocketAddress::fromSockaddr(const sockaddr* address, socklen_t length) {
    SocketAddress result;
    if (address == nullptr) {
        return result;
    }
    if ((address->sa_family == AF_INET && length >= socklen_t(sizeof(sockaddr_in))) ||
        (address->sa_family == AF_INET6 && length >= socklen_t(sizeof(sockaddr_in6)))) {
        result.length_ = address->sa_family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6);
        std::memcpy(&result.storage_, address, result.length_);
    }
    return result;
}

std::uint16_t SocketAddress::port() const {
    if (family() == AF_INET) {
        return ntohs(reinterpret_cast<const sockaddr_in*>(&storage_)->sin_port);
    }
    if (family() == AF_INET6) {
        return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_port);
    }
    return 0;
}

bool SocketAddress::isLoopback() const {
    if (family() == AF_INET) {
        const auto* v4 = reinterpret_cast<const sockaddr_in*>(&storage_);
        return (ntohl(v4->sin_addr.s_addr) >> 24) == 127;
    }
    if (family() == AF_INET6) {
        const auto& a = reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_addr;
        if (IN6_IS_ADDR_LOOPBACK(&a)) {
            return true;
        }
        return IN6_IS_ADDR_V4MAPPED(&a) && a.s6_addr[12] == 127;
    }
    return false;
}

std::string SocketAddress::toString() const {
    char text[INET6_ADDRSTRLEN] = {};
    if (family() == AF_INET) {
        const auto* v4 = reinterpret_cast<const sockaddr_in*>(&storage_);
        ::inet_ntop(AF_INET, &v4->sin_addr, text, sizeof text);
        return std::string(text) + ":" + std::to_string(port());
    }
    if (family() == AF_INET6) {
        const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&storage_);
        ::inet_ntop(AF_INET6, &v6->sin6_addr, text, sizeof text);
        std::string result = "[" + std::string(text);
        if (v6->sin6_scope_id != 0) {
            result += "%" + std::to_string(v6->sin6_scope_id);
        }
        return result + "]:" + std::to_string(port());
    }
    return "(no address)";
}

bool SocketAddress::operator==(const SocketAddress& other) const {
    if (family() != other.family() || length_ != other.length_) {
        return false;
    }
    if (family() == AF_INET) {
        const auto* a = reinterpret_cast<const sockaddr_in*>(&storage_);
        const auto* b = reinterpret_cast<const sockaddr_in*>(&other.storage_);
        return a->sin_port == b->sin_port && a->sin_addr.s_addr == b->sin_addr.s_addr;
    }
    if (family() == AF_INET6) {
        const auto* a = reinterpret_cast<const sockaddr_in6*>(&storage_);
        const auto* b = reinterpret_cast<const sockaddr_in6*>(&other.storage_);
        return a->sin6_port == b->sin6_port && a->sin6_scope_id == b->sin6_scope_id &&
               std::memcmp(&a->sin6_addr, &b->sin6_addr, sizeof a->sin6_addr) == 0;
    }
    return true;
}

} // namespace vpnsteer::wandns
