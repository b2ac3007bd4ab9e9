// What vpnsteerd keeps in the kernel, and why (DESIGN.md, "Beyond the original"):
//
//  - whenever it runs: the bypass rules (`fwmark WANMARK lookup main` at 80 and
//    `fwmark MARK lookup main` at 90 for every tunnel, both families), so that two system-wide
//    VPNs never loop into each other, and the kill-switch routes in every VPN table;
//  - for each system-wide VPN: `lookup main suppress_prefixlength 0` at id+100 and
//    `not fwmark MARK lookup TABLE` at id+300, both families.
//
// Rules it adds carry vpnsteerProtocol. The system-wide rules are recognised by that tag
// (adoption on start). A bypass rule or kill-switch route counts as present whoever added it:
// systemd-networkd adds them too, from the generated files, and vpnsteerd only fills the gaps.
//
// The tunnel bypass rules change hands on every restart of a tunnel daemon (fastd,
// wireguard-go), because the generator puts them in the tunnel's .network and networkd ties
// a .network's rules to its link: when the device goes, networkd deletes its rule at 90
// (systemd's link_drop_managed_config), ruleRemoved() puts back vpnsteerd's own, and when the
// device is back networkd adds its rule again and ruleAdded() takes vpnsteerd's away. Between
// networkd's deletion and vpnsteerd's put-back the kernel has no rule for that mark; the
// daemon whose device went has just stopped then, so this has not been seen to leak, but it
// fills the journal and would be a gap if networkd dropped the rule under a running tunnel.
// The way out is one owner: vpnsteerd alone, as for the WAN rule at 80 (the generator then
// leaves the rule out of the tunnel's .network), or networkd alone from a .network that
// outlives the tunnel (the bridge's). Either changes the generated files and the lab tests
// that expect networkd's rule at 90 (tests/service, tests/integration/networkd.sh).
//
// Nothing here logs: every call returns what it changed, for the daemon to report.
#pragma once

#include "core/spec.hpp"
#include "service/rules/kill_switch_routes.hpp"
#include "service/rules/rule_table.hpp"
#include "service/rules/sysctl.hpp"

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace vpnsteer::rules {

// The four rules Up adds for `vpn`, in the order they are added: the id+100 rules first, so
// LAN destinations stay reachable from the moment the id+300 rules take the rest.
std::vector<PolicyRule> systemWideRulesOf(const Vpn& vpn);
// The bypass rules for `spec`: the WAN mark at 80, then each tunnel's mark at 90.
std::vector<PolicyRule> bypassRulesOf(const Spec& spec);
// The kill-switch routes for every VPN table of `spec`.
std::vector<KillSwitchRoute> killSwitchRoutesOf(const Spec& spec);

// What one call changed in the kernel, and what it could not change.
struct KernelReport {
    std::vector<std::string> changes;  // "added IPv4 rule 90 (fwmark 10001 lookup main)"
    std::vector<std::string> failures; // the std::system_error texts

    void merge(KernelReport other);
};

class SystemWideRules {
public:
    SystemWideRules(RuleTable& rules, KillSwitchRoutes& routes, Sysctl& sysctl);

    // Makes the kernel match `spec`. Adds before it removes, so that no instant is without a
    // rule that was wanted before and after.
    //
    // The first call adopts: each VPN of `spec` with any of its system-wide rules in the
    // kernel is system-wide (and gets the rest of them). Later calls keep the system-wide set;
    // a system-wide VPN whose id changed gets its new rules before losing the old ones, and
    // one that left `spec` loses them.
    //
    // With `removeUnexplained`, rules and routes tagged with vpnsteerProtocol that nothing
    // in `spec` explains are removed. Pass it only for a wholly valid spec: a VPN with an
    // error is left out of `spec` but may still own some.
    //
    // Failures do not stop it: it carries on with the rest and lists them.
    KernelReport apply(const Spec& spec, bool removeUnexplained);

    // Makes `vpn` (from the applied spec) system-wide. Idempotent. Throws std::system_error.
    KernelReport up(const Vpn& vpn);
    // Removes exactly the rules up() added for the VPN called `name`. Idempotent. Throws
    // std::system_error after trying every rule.
    KernelReport down(const std::string& name);
    // up(vpn), then down() of every other system-wide VPN.
    KernelReport switchTo(const Vpn& vpn);

    bool isSystemWide(const std::string& name) const { return systemWide_.contains(name); }
    std::set<std::string> systemWide() const;
    // The system-wide VPN with the lowest id, which carries the host's traffic, or "".
    std::string carrier() const;

    // Netlink notifications. Each puts back what vpnsteerd wants and somebody removed, and
    // returns what it did. They throw std::system_error when the kernel refuses.
    KernelReport ruleRemoved(const PolicyRule& rule);
    KernelReport ruleAdded(const PolicyRule& rule);
    KernelReport routeRemoved(const KillSwitchRoute& route);
    // Compares everything with the kernel and puts back what is missing (after lost
    // notifications, or to retry after a failure). Does not throw for kernel failures.
    KernelReport restore();

private:
    void addRule(const PolicyRule& rule, KernelReport& report);
    void removeRule(const PolicyRule& rule, KernelReport& report);
    void addRoute(const KillSwitchRoute& route, KernelReport& report);
    void removeRoute(const KillSwitchRoute& route, KernelReport& report);
    // Runs `change`, turning a std::system_error into a listed failure.
    template <typename Change>
    void tryChange(KernelReport& report, Change&& change);
    // Adds the wanted rules and routes missing from `rules` and `routes` (the kernel's).
    void addMissing(const std::vector<PolicyRule>& rules,
                    const std::vector<KillSwitchRoute>& routes, KernelReport& report);
    // Removes vpnsteer's bypass rules that a rule of somebody else's duplicates.
    void removeDuplicatedBypass(const std::vector<PolicyRule>& rules, KernelReport& report);
    std::vector<PolicyRule> wantedSystemWideRules() const;
    void enableSourceValidMark();

    RuleTable& rules_;
    KillSwitchRoutes& routes_;
    Sysctl& sysctl_;
    bool adopted_ = false;
    std::map<std::string, Vpn> systemWide_; // as they were when made system-wide
    std::vector<PolicyRule> bypass_;
    std::vector<KillSwitchRoute> killSwitch_;
};

} // namespace vpnsteer::rules
