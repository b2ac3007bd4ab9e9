#include "service/wandns/uplink_servers.hpp"

#include <algorithm>
#include <set>
#include <stdexcept>
#include <string>

namespace vpnsteer::wandns {

namespace {

constexpr std::uint16_t dnsPort = 53;

std::set<std::string> vpnsteerLinks(const Spec& spec) {
    std::set<std::string> names;
    for (const auto& [name, vpn] : spec.vpns) {
        names.insert(vpn.name);
        names.insert(vpn.bridge);
    }
    return names;
}

} // namespace

std::vector<SocketAddress> uplinkServersOf(const std::vector<resolved::LinkDns>& links,
                                           const Spec& spec) {
    const std::set<std::string> excluded = vpnsteerLinks(spec);
    std::vector<SocketAddress> servers;
    for (const resolved::LinkDns& link : links) {
        if (excluded.contains(link.name)) {
            continue;
        }
        for (const std::string& server : link.settings.servers) {
            const bool linkLocal = server.starts_with("fe80:") || server.starts_with("FE80:");
            const std::string text =
                server.find(':') == std::string::npos
                    ? server
                    : "[" + server + (linkLocal ? "%" + std::to_string(link.ifindex) : "") + "]";
            try {
                SocketAddress address = SocketAddress::parse(text, dnsPort);
                if (std::find(servers.begin(), servers.end(), address) == servers.end()) {
                    servers.push_back(std::move(address));
                }
            } catch (const std::invalid_argument&) {
                // resolved reported something this family cannot reach; the others still serve.
            }
        }
    }
    return servers;
}

} // namespace vpnsteer::wandns
