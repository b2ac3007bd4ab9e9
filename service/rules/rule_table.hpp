// The kernel's routing policy rules, as vpnsteerd needs them. The real one speaks netlink
// (NetlinkRuleTable); unit tests use a fake.
#pragma once

#include "service/rules/policy_rule.hpp"

#include <vector>

namespace vpnsteer::rules {

class RuleTable {
public:
    virtual ~RuleTable() = default;

    // Adds `rule`. Returns false when the very same rule (same protocol too) was already there.
    // Throws std::system_error naming the rule on any other failure.
    virtual bool add(const PolicyRule& rule) = 0;
    // Removes `rule` (matched on everything, protocol included). Returns false when there was
    // no such rule. Throws std::system_error naming the rule on any other failure.
    virtual bool remove(const PolicyRule& rule) = 0;
    // Every rule of both families, in the kernel's order.
    virtual std::vector<PolicyRule> list() = 0;
};

} // namespace vpnsteer::rules
