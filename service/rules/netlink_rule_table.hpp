// RuleTable over a NETLINK_ROUTE socket.
#pragma once

#include "service/rules/netlink.hpp"
#include "service/rules/rule_table.hpp"

namespace vpnsteer::rules {

class NetlinkRuleTable final : public RuleTable {
public:
    explicit NetlinkRuleTable(RouteNetlinkSocket& socket)
        : socket_(socket) {}

    bool add(const PolicyRule& rule) override;
    bool remove(const PolicyRule& rule) override;
    std::vector<PolicyRule> list() override;

private:
    RouteNetlinkSocket& socket_;
};

} // namespace vpnsteer::rules
