#include "service/nat/bridge_snat.hpp"

#include "service/nat/reconcile.hpp"

#include <algorithm>

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
    return reconcileChain(table_, snatRulesOf(spec), snatChain, "POSTROUTING",
                          "the bridges' traffic is not source-NATed, everything else works");
}

} // namespace vpnsteer::nat
