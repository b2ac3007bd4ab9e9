#include "service/nat/dns_redirect.hpp"

#include "service/nat/reconcile.hpp"

#include <grp.h>
#include <tuple>
#include <unistd.h>

namespace vpnsteer::nat {

namespace {

constexpr std::uint16_t dnsPort = 53;
// Where a program of the group may expect a resolver: the classic resolv.conf entries and
// systemd-resolved's stub (resolved.conf(5), "DNSStubListener").
const std::vector<std::string> localResolversV4 = {"127.0.0.1", "127.0.0.53"};
const std::vector<std::string> localResolversV6 = {"::1"};

bool isIpv6(const std::string& address) {
    return address.find(':') != std::string::npos;
}

} // namespace

std::string RedirectRule::describe() const {
    if (!foreign.empty()) {
        return foreign;
    }
    const char* protocol = transport == Transport::udp ? "udp" : "tcp";
    const bool v6 = isIpv6(destination);
    const std::string to = v6 ? "[" + toAddress + "]" : toAddress;
    return "-d " + destination + (v6 ? "/128" : "/32") + " -p " + protocol +
           " -m owner --gid-owner " + std::to_string(group) + " --suppl-groups -m " + protocol +
           " --dport " + std::to_string(dnsPort) + " -j DNAT --to-destination " + to + ":" +
           std::to_string(toPort);
}

std::vector<RedirectRule> redirectRulesOf(const Spec& spec, std::uint32_t group,
                                          AddressFamily family) {
    const bool v6 = family == AddressFamily::ipv6;
    std::vector<RedirectRule> rules;
    for (const Endpoint& listen : spec.wan.dnsListen) {
        if ((listen.hostIsIpv6 || isIpv6(listen.host)) != v6) {
            continue;
        }
        for (const std::string& destination : v6 ? localResolversV6 : localResolversV4) {
            for (Transport transport : {Transport::udp, Transport::tcp}) {
                rules.push_back(
                    RedirectRule{destination, transport, group, listen.host, listen.port, {}});
            }
        }
        break;
    }
    return rules;
}

std::optional<std::uint32_t> systemGroup(const std::string& name) {
    group entry{};
    group* found = nullptr;
    std::vector<char> buffer(16 * 1024);
    if (getgrnam_r(name.c_str(), &entry, buffer.data(), buffer.size(), &found) != 0 ||
        found == nullptr) {
        return std::nullopt;
    }
    return static_cast<std::uint32_t>(found->gr_gid);
}

rules::KernelReport DnsRedirect::apply(const Spec& spec) {
    const std::optional<std::uint32_t> group = lookup_(wanGroup);
    rules::KernelReport report;
    for (const auto& [family, table, name] : {std::tuple{AddressFamily::ipv4, &ipv4_, "IPv4"},
                                              std::tuple{AddressFamily::ipv6, &ipv6_, "IPv6"}}) {
        report.merge(reconcileChain(
            *table, group ? redirectRulesOf(spec, *group, family) : std::vector<RedirectRule>{},
            dnsRedirectChain, "OUTPUT",
            std::string(name) + " DNS of the tunnel daemons (group vpnsteer-wan) is not "
                                "redirected to the WAN DNS forwarder, everything else works"));
    }
    if (!group) {
        report.failures.push_back(std::string("the group ") + wanGroup +
                                  " does not exist (sysusers.d/vpnsteer.conf creates it): the DNS "
                                  "of the tunnel daemons is not redirected, everything else works");
    }
    return report;
}

} // namespace vpnsteer::nat
