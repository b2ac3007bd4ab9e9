#include "service/nat/dns_redirect.hpp"

#include "service/nat/reconcile.hpp"

#include <grp.h>
#include <unistd.h>

namespace vpnsteer::nat {

namespace {

constexpr std::uint16_t dnsPort = 53;
// Where a program of the group may expect a resolver: the classic resolv.conf entry and
// systemd-resolved's stub (resolved.conf(5), "DNSStubListener").
constexpr const char* localResolvers[] = {"127.0.0.1", "127.0.0.53"};

} // namespace

std::string RedirectRule::describe() const {
    if (!foreign.empty()) {
        return foreign;
    }
    const char* protocol = transport == Transport::udp ? "udp" : "tcp";
    return "-d " + destination + "/32 -p " + protocol + " -m owner --gid-owner " +
           std::to_string(group) + " --suppl-groups -m " + protocol + " --dport " +
           std::to_string(dnsPort) + " -j DNAT --to-destination " + toAddress + ":" +
           std::to_string(toPort);
}

std::vector<RedirectRule> redirectRulesOf(const Spec& spec, std::uint32_t group) {
    std::vector<RedirectRule> rules;
    for (const Endpoint& listen : spec.wan.dnsListen) {
        if (listen.hostIsIpv6 || listen.host.find(':') != std::string::npos) {
            continue;
        }
        for (const char* destination : localResolvers) {
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
    std::vector<RedirectRule> wanted;
    if (group) {
        wanted = redirectRulesOf(spec, *group);
    }
    rules::KernelReport report = reconcileChain(
        table_, wanted, dnsRedirectChain, "OUTPUT",
        "the DNS of the tunnel daemons (group vpnsteer-wan) is not redirected to the WAN DNS "
        "forwarder, everything else works");
    if (!group) {
        report.failures.push_back(std::string("the group ") + wanGroup +
                                  " does not exist (sysusers.d/vpnsteer.conf creates it): the DNS "
                                  "of the tunnel daemons is not redirected, everything else works");
    }
    return report;
}

} // namespace vpnsteer::nat
