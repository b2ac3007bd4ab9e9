#include "service/nat/bridge_snat.hpp"

#include <algorithm>
#include <exception>

namespace vpnsteer::nat {

std::string SnatRule::describe() const {
    if (foreign) {
        return source;
    }
    return "-s " + source + " -j SNAT --to-source " + toSource;
}

std::vector<SnatRule> snatRulesOf(const Spec& spec) {
    std::vector<const Vpn*> byId;
    for (const auto& [name, vpn] : spec.vpns) {
        if (vpn.addrV4) {
            byId.push_back(&vpn);
        }
    }
    std::sort(byId.begin(), byId.end(), [](const Vpn* a, const Vpn* b) { return a->id < b->id; });
    std::vector<SnatRule> rules;
    for (const Vpn* vpn : byId) {
        rules.push_back(SnatRule{vpn->bridgeSubnetV4(), vpn->addrV4->address});
    }
    return rules;
}

rules::KernelReport BridgeSnat::apply(const Spec& spec) {
    rules::KernelReport report;
    const std::vector<SnatRule> wanted = snatRulesOf(spec);
    try {
        const SnatChainState found = table_.read();
        if (found.rules == wanted && found.hooks == 1) {
            return report;
        }
        table_.write(wanted);
        for (const SnatRule& rule : found.rules) {
            if (std::find(wanted.begin(), wanted.end(), rule) == wanted.end()) {
                report.changes.push_back(std::string("removed nat rule ") + snatChain + " " +
                                         rule.describe());
            }
        }
        for (const SnatRule& rule : wanted) {
            if (std::find(found.rules.begin(), found.rules.end(), rule) == found.rules.end()) {
                report.changes.push_back(std::string("added nat rule ") + snatChain + " " +
                                         rule.describe());
            }
        }
        if (found.hooks != 1) {
            report.changes.push_back("POSTROUTING jumped to " + std::string(snatChain) + " " +
                                     std::to_string(found.hooks) + " times, now once");
        }
    } catch (const std::exception& error) {
        report.failures.push_back(std::string(error.what()) +
                                  "; the bridges' traffic is not source-NATed, everything else "
                                  "works");
    }
    return report;
}

} // namespace vpnsteer::nat
