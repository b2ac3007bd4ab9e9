#include "cli/bridge_namespace.hpp"

namespace vpnsteer::cli {

namespace {

// resolv.conf(5): MAXNS.
constexpr std::size_t resolverLimit = 3;

} // namespace

std::string bridgeSubnetAddress(std::uint32_t vpnId, unsigned host) {
    return "10.20." + std::to_string(vpnId) + "." + std::to_string(host);
}

std::string execVethName(std::uint32_t vpnId, unsigned host) {
    return "vx" + std::to_string(vpnId) + "-" + std::to_string(host);
}

std::string execResolvConf(const std::string& vpnName, const std::vector<std::string>& dns) {
    std::string text = "# vpnsteer exec: the DNS servers of VPN " + vpnName + "\n";
    if (dns.empty())
        text += "# (the spec gives none: names do not resolve here)\n";
    for (std::size_t index = 0; index < dns.size(); ++index) {
        if (index >= resolverLimit)
            text += "# not read by glibc, which uses the first three: ";
        text += "nameserver " + dns[index] + "\n";
    }
    return text;
}

} // namespace vpnsteer::cli
