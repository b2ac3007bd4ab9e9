#include "service/nat/iptc.hpp"

#include <arpa/inet.h>
#include <exception>

namespace vpnsteer::nat::iptc {

std::string ipv4Text(in_addr address) {
    char text[INET_ADDRSTRLEN] = {};
    inet_ntop(AF_INET, &address, text, sizeof text);
    return text;
}

std::string ipv6Text(const in6_addr& address) {
    char text[INET6_ADDRSTRLEN] = {};
    inet_ntop(AF_INET6, &address, text, sizeof text);
    return text;
}

Subnet parseSubnet(const std::string& cidr) {
    const auto slash = cidr.find('/');
    Subnet subnet;
    int length = 32;
    if (slash != std::string::npos) {
        try {
            length = std::stoi(cidr.substr(slash + 1));
        } catch (const std::exception&) {
            length = -1;
        }
    }
    if (inet_pton(AF_INET, cidr.substr(0, slash).c_str(), &subnet.address) != 1 || length < 0 ||
        length > 32) {
        throw std::system_error(EINVAL, std::generic_category(),
                                "'" + cidr + "' is not an IPv4 subnet");
    }
    subnet.mask.s_addr = length == 0 ? 0 : htonl(~std::uint32_t{0} << (32 - length));
    subnet.address.s_addr &= subnet.mask.s_addr;
    return subnet;
}

in6_addr parseIpv6(const std::string& text) {
    in6_addr address{};
    if (inet_pton(AF_INET6, text.c_str(), &address) != 1) {
        throw std::system_error(EINVAL, std::generic_category(),
                                "'" + text + "' is not an IPv6 address");
    }
    return address;
}

int prefixLength(in_addr mask) {
    return __builtin_popcount(mask.s_addr);
}

} // namespace vpnsteer::nat::iptc
