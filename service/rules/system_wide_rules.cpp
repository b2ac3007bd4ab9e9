#include "service/rules/system_wide_rules.hpp"

#include <algorithm>
#include <system_error>

namespace vpnsteer::rules {

namespace {

constexpr AddressFamily families[] = {AddressFamily::ipv4, AddressFamily::ipv6};

bool contains(const std::vector<PolicyRule>& rules, const PolicyRule& rule) {
    return std::find(rules.begin(), rules.end(), rule) != rules.end();
}

bool containsSameEffect(const std::vector<PolicyRule>& rules, const PolicyRule& rule) {
    return std::any_of(rules.begin(), rules.end(),
                       [&](const PolicyRule& other) { return rule.sameEffect(other); });
}

bool containsForeignEquivalent(const std::vector<PolicyRule>& rules, const PolicyRule& rule) {
    return std::any_of(rules.begin(), rules.end(), [&](const PolicyRule& other) {
        return other.protocol != vpnsteerProtocol && rule.sameEffect(other);
    });
}

bool containsSameRoute(const std::vector<KillSwitchRoute>& routes, const KillSwitchRoute& route) {
    return std::any_of(routes.begin(), routes.end(),
                       [&](const KillSwitchRoute& other) { return route.sameRoute(other); });
}

// The report of a netlink notification handler: what it added was put back.
KernelReport asPutBack(KernelReport report) {
    for (std::string& change : report.changes) {
        if (change.starts_with("added ")) {
            change = "put back " + change.substr(6) + ", which had vanished";
        }
    }
    return report;
}

PolicyRule mainLookupRule(AddressFamily family, std::uint32_t priority, std::uint32_t mark) {
    PolicyRule rule;
    rule.family = family;
    rule.priority = priority;
    rule.table = mainTable;
    rule.firewallMark = mark;
    return rule;
}

} // namespace

std::vector<PolicyRule> systemWideRulesOf(const Vpn& vpn) {
    std::vector<PolicyRule> rules;
    for (AddressFamily family : families) {
        PolicyRule keepLocal;
        keepLocal.family = family;
        keepLocal.priority = vpn.mainRulePriority();
        keepLocal.table = mainTable;
        keepLocal.suppressPrefixLength = 0;
        rules.push_back(keepLocal);
    }
    for (AddressFamily family : families) {
        PolicyRule everythingElse;
        everythingElse.family = family;
        everythingElse.priority = vpn.systemWideRulePriority();
        everythingElse.table = vpn.routingTable();
        everythingElse.firewallMark = vpn.firewallMark();
        everythingElse.invert = true;
        rules.push_back(everythingElse);
    }
    return rules;
}

std::vector<PolicyRule> bypassRulesOf(const Spec& spec) {
    std::vector<PolicyRule> rules;
    for (AddressFamily family : families) {
        rules.push_back(mainLookupRule(family, derive::wanBypassRulePriority, spec.wan.mark));
    }
    std::vector<const Vpn*> byId;
    for (const auto& [name, vpn] : spec.vpns) {
        byId.push_back(&vpn);
    }
    std::sort(byId.begin(), byId.end(), [](const Vpn* a, const Vpn* b) { return a->id < b->id; });
    for (const Vpn* vpn : byId) {
        for (AddressFamily family : families) {
            rules.push_back(
                mainLookupRule(family, derive::tunnelBypassRulePriority, vpn->firewallMark()));
        }
    }
    return rules;
}

std::vector<KillSwitchRoute> killSwitchRoutesOf(const Spec& spec) {
    std::vector<KillSwitchRoute> routes;
    for (const auto& [name, vpn] : spec.vpns) {
        for (AddressFamily family : families) {
            routes.push_back(KillSwitchRoute{family, vpn.routingTable(), vpnsteerProtocol});
        }
    }
    std::sort(routes.begin(), routes.end());
    return routes;
}

void KernelReport::merge(KernelReport other) {
    changes.insert(changes.end(), std::make_move_iterator(other.changes.begin()),
                   std::make_move_iterator(other.changes.end()));
    failures.insert(failures.end(), std::make_move_iterator(other.failures.begin()),
                    std::make_move_iterator(other.failures.end()));
}

SystemWideRules::SystemWideRules(RuleTable& rules, KillSwitchRoutes& routes, Sysctl& sysctl)
    : rules_(rules)
    , routes_(routes)
    , sysctl_(sysctl) {}

template <typename Change>
void SystemWideRules::tryChange(KernelReport& report, Change&& change) {
    try {
        change();
    } catch (const std::system_error& error) {
        report.failures.push_back(error.what());
    }
}

void SystemWideRules::addRule(const PolicyRule& rule, KernelReport& report) {
    if (rules_.add(rule)) {
        report.changes.push_back("added " + rule.describe());
    }
}

void SystemWideRules::removeRule(const PolicyRule& rule, KernelReport& report) {
    if (rules_.remove(rule)) {
        report.changes.push_back("removed " + rule.describe());
    }
}

void SystemWideRules::addRoute(const KillSwitchRoute& route, KernelReport& report) {
    if (routes_.add(route)) {
        report.changes.push_back("added " + route.describe());
    }
}

void SystemWideRules::removeRoute(const KillSwitchRoute& route, KernelReport& report) {
    if (routes_.remove(route)) {
        report.changes.push_back("removed " + route.describe());
    }
}

void SystemWideRules::enableSourceValidMark() {
    // Replies that arrive through the tunnel are checked against the reverse path with the
    // packet's mark only when src_valid_mark is set (as wg-quick does); without it, strict
    // reverse-path filtering drops them.
    sysctl_.write("net.ipv4.conf.all.src_valid_mark", "1");
}

std::vector<PolicyRule> SystemWideRules::wantedSystemWideRules() const {
    std::vector<PolicyRule> wanted;
    for (const auto& [name, vpn] : systemWide_) {
        auto rules = systemWideRulesOf(vpn);
        wanted.insert(wanted.end(), rules.begin(), rules.end());
    }
    return wanted;
}

void SystemWideRules::addMissing(const std::vector<PolicyRule>& rules,
                                 const std::vector<KillSwitchRoute>& routes, KernelReport& report) {
    for (const PolicyRule& rule : wantedSystemWideRules()) {
        if (!contains(rules, rule)) {
            tryChange(report, [&] { addRule(rule, report); });
        }
    }
    for (const PolicyRule& rule : bypass_) {
        if (!containsSameEffect(rules, rule)) {
            tryChange(report, [&] { addRule(rule, report); });
        }
    }
    for (const KillSwitchRoute& route : killSwitch_) {
        if (!containsSameRoute(routes, route)) {
            tryChange(report, [&] { addRoute(route, report); });
        }
    }
}

void SystemWideRules::removeDuplicatedBypass(const std::vector<PolicyRule>& rules,
                                             KernelReport& report) {
    for (const PolicyRule& rule : bypass_) {
        if (contains(rules, rule) && containsForeignEquivalent(rules, rule)) {
            tryChange(report, [&] { removeRule(rule, report); });
        }
    }
}

KernelReport SystemWideRules::apply(const Spec& spec, bool removeUnexplained) {
    KernelReport report;
    tryChange(report, [&] { enableSourceValidMark(); });

    std::vector<PolicyRule> kernelRules;
    std::vector<KillSwitchRoute> kernelRoutes;
    try {
        kernelRules = rules_.list();
        kernelRoutes = routes_.list();
    } catch (const std::system_error& error) {
        // Without the kernel's state nothing can be compared; adding everything is still
        // right (what exists is simply reported as such).
        report.failures.push_back(error.what());
    }

    const std::vector<PolicyRule> previouslyWanted = wantedSystemWideRules();
    std::map<std::string, Vpn> systemWide;
    for (const auto& [name, vpn] : spec.vpns) {
        const bool adopted =
            !adopted_ && std::any_of(kernelRules.begin(), kernelRules.end(),
                                     [&, &vpn = vpn](const PolicyRule& rule) {
                                         return contains(systemWideRulesOf(vpn), rule);
                                     });
        if (adopted || systemWide_.contains(name)) {
            systemWide.emplace(name, vpn);
        }
    }
    systemWide_ = std::move(systemWide);
    bypass_ = bypassRulesOf(spec);
    killSwitch_ = killSwitchRoutesOf(spec);
    adopted_ = true;

    addMissing(kernelRules, kernelRoutes, report);

    const std::vector<PolicyRule> wanted = wantedSystemWideRules();
    for (const PolicyRule& rule : previouslyWanted) {
        if (!contains(wanted, rule) && !contains(bypass_, rule)) {
            tryChange(report, [&] { removeRule(rule, report); });
        }
    }
    removeDuplicatedBypass(kernelRules, report);
    if (removeUnexplained) {
        for (const PolicyRule& rule : kernelRules) {
            if (rule.protocol == vpnsteerProtocol && !contains(wanted, rule) &&
                !contains(bypass_, rule) && !contains(previouslyWanted, rule)) {
                tryChange(report, [&] { removeRule(rule, report); });
            }
        }
        for (const KillSwitchRoute& route : kernelRoutes) {
            if (route.protocol == vpnsteerProtocol && !containsSameRoute(killSwitch_, route)) {
                tryChange(report, [&] { removeRoute(route, report); });
            }
        }
    }
    return report;
}

KernelReport SystemWideRules::up(const Vpn& vpn) {
    KernelReport report;
    // Without it only replies under strict reverse-path filtering suffer; the rules matter
    // more, so a refusal is reported, not fatal.
    tryChange(report, [&] { enableSourceValidMark(); });
    // Recorded first: should an add fail half-way, down() still removes what was added, and
    // the netlink monitor already guards it.
    systemWide_.insert_or_assign(vpn.name, vpn);
    for (const PolicyRule& rule : systemWideRulesOf(vpn)) {
        addRule(rule, report);
    }
    return report;
}

KernelReport SystemWideRules::down(const std::string& name) {
    KernelReport report;
    auto found = systemWide_.find(name);
    if (found == systemWide_.end()) {
        return report;
    }
    std::vector<PolicyRule> rules = systemWideRulesOf(found->second);
    // Forgotten first, so that the monitor does not put back what is being removed.
    systemWide_.erase(found);
    // The id+300 rules go first: they are what sends traffic into the tunnel.
    std::reverse(rules.begin(), rules.end());
    for (const PolicyRule& rule : rules) {
        tryChange(report, [&] { removeRule(rule, report); });
    }
    if (!report.failures.empty()) {
        throw std::system_error(std::make_error_code(std::errc::io_error), report.failures.front());
    }
    return report;
}

KernelReport SystemWideRules::switchTo(const Vpn& vpn) {
    KernelReport report = up(vpn);
    for (const std::string& other : systemWide()) {
        if (other != vpn.name) {
            report.merge(down(other));
        }
    }
    return report;
}

std::set<std::string> SystemWideRules::systemWide() const {
    std::set<std::string> names;
    for (const auto& [name, vpn] : systemWide_) {
        names.insert(name);
    }
    return names;
}

std::string SystemWideRules::carrier() const {
    const Vpn* lowest = nullptr;
    for (const auto& [name, vpn] : systemWide_) {
        if (lowest == nullptr || vpn.id < lowest->id) {
            lowest = &vpn;
        }
    }
    return lowest != nullptr ? lowest->name : std::string();
}

KernelReport SystemWideRules::ruleRemoved(const PolicyRule& rule) {
    KernelReport report;
    if (rule.protocol == vpnsteerProtocol && contains(wantedSystemWideRules(), rule)) {
        addRule(rule, report);
    } else if (containsSameEffect(bypass_, rule)) {
        // Somebody else's equivalent may still be there (or ours, when theirs went): only the
        // kernel knows.
        const std::vector<PolicyRule> kernelRules = rules_.list();
        PolicyRule ours = rule;
        ours.protocol = vpnsteerProtocol;
        if (!containsSameEffect(kernelRules, ours)) {
            addRule(ours, report);
        }
    }
    return asPutBack(std::move(report));
}

KernelReport SystemWideRules::ruleAdded(const PolicyRule& rule) {
    KernelReport report;
    if (rule.protocol != vpnsteerProtocol && containsSameEffect(bypass_, rule)) {
        PolicyRule ours = rule;
        ours.protocol = vpnsteerProtocol;
        if (rules_.remove(ours)) {
            report.changes.push_back("removed " + ours.describe() +
                                     ": an equal rule with protocol " +
                                     std::to_string(rule.protocol) + " does its job");
        }
    }
    return report;
}

KernelReport SystemWideRules::routeRemoved(const KillSwitchRoute& route) {
    KernelReport report;
    if (containsSameRoute(killSwitch_, route)) {
        KillSwitchRoute ours = route;
        ours.protocol = vpnsteerProtocol;
        addRoute(ours, report);
    }
    return asPutBack(std::move(report));
}

KernelReport SystemWideRules::restore() {
    KernelReport report;
    try {
        const std::vector<PolicyRule> kernelRules = rules_.list();
        const std::vector<KillSwitchRoute> kernelRoutes = routes_.list();
        addMissing(kernelRules, kernelRoutes, report);
        removeDuplicatedBypass(kernelRules, report);
    } catch (const std::system_error& error) {
        report.failures.push_back(error.what());
    }
    return asPutBack(std::move(report));
}

} // namespace vpnsteer::rules
