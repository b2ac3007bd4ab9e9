// Fakes of the kernel for vpnsteerd's rule logic. They keep the kernel's rules for what the
// logic relies on: a rule is a duplicate only if equal in everything, protocol included
// (net/core/fib_rules.c rule_exists()); a route is a duplicate if it has the same table,
// destination and metric, whatever its protocol; deletion matches the protocol.
#pragma once

#include "service/rules/kill_switch_routes.hpp"
#include "service/rules/rule_table.hpp"
#include "service/rules/sysctl.hpp"

#include <algorithm>
#include <functional>
#include <map>
#include <string>
#include <system_error>
#include <vector>

namespace vpnsteer::test {

class FakeRuleTable final : public rules::RuleTable {
public:
    std::vector<rules::PolicyRule> rules;
    std::vector<std::string> operations; // "add IPv4 rule 101 (...)", in order
    // Makes add() or remove() of a matching rule fail with EPERM.
    std::function<bool(const rules::PolicyRule&)> refuse;

    bool add(const rules::PolicyRule& rule) override {
        check(rule, "adding ");
        operations.push_back("add " + rule.describe());
        if (std::find(rules.begin(), rules.end(), rule) != rules.end()) {
            return false;
        }
        // The kernel puts a rule after those of a lower or equal priority.
        auto position = std::find_if(rules.begin(), rules.end(), [&](const rules::PolicyRule& r) {
            return r.priority > rule.priority;
        });
        rules.insert(position, rule);
        return true;
    }

    bool remove(const rules::PolicyRule& rule) override {
        check(rule, "removing ");
        operations.push_back("remove " + rule.describe());
        auto found = std::find(rules.begin(), rules.end(), rule);
        if (found == rules.end()) {
            return false;
        }
        rules.erase(found);
        return true;
    }

    std::vector<rules::PolicyRule> list() override { return rules; }

    // What `ip rule` would show, one line per rule: "IPv4 rule 90 (...) proto 118".
    std::vector<std::string> describeAll() const {
        std::vector<std::string> lines;
        for (const auto& rule : rules) {
            lines.push_back(rule.describe() + " proto " + std::to_string(rule.protocol));
        }
        return lines;
    }

private:
    void check(const rules::PolicyRule& rule, const std::string& what) {
        if (refuse && refuse(rule)) {
            throw std::system_error(EPERM, std::generic_category(), what + rule.describe());
        }
    }
};

class FakeKillSwitchRoutes final : public rules::KillSwitchRoutes {
public:
    std::vector<rules::KillSwitchRoute> routes;
    int additions = 0;

    bool add(const rules::KillSwitchRoute& route) override {
        auto same = [&](const rules::KillSwitchRoute& r) { return r.sameRoute(route); };
        if (std::any_of(routes.begin(), routes.end(), same)) {
            return false;
        }
        ++additions;
        routes.push_back(route);
        return true;
    }

    bool remove(const rules::KillSwitchRoute& route) override {
        auto found = std::find(routes.begin(), routes.end(), route);
        if (found == routes.end()) {
            return false;
        }
        routes.erase(found);
        return true;
    }

    std::vector<rules::KillSwitchRoute> list() override { return routes; }
};

class FakeSysctl final : public rules::Sysctl {
public:
    std::map<std::string, std::string> values;
    bool readOnly = false; // as /proc/sys is under ProtectKernelTunables=

    void write(std::string_view key, std::string_view value) override {
        if (readOnly) {
            throw std::system_error(EROFS, std::generic_category(),
                                    "setting " + std::string(key) + "=" + std::string(value));
        }
        values[std::string(key)] = std::string(value);
    }
};

} // namespace vpnsteer::test
