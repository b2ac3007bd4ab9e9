// How vpnsteerd keeps each of its nat chains (bridge SNAT, the DNS redirect): it compares the
// kernel's chain with the wanted one and rewrites it, in one commit, only when they differ, and
// says what changed. Shared by bridge_snat.cpp and dns_redirect.cpp.
#pragma once

#include "service/nat/chain_table.hpp"
#include "service/rules/system_wide_rules.hpp"

#include <algorithm>
#include <exception>
#include <string>
#include <vector>

namespace vpnsteer::nat {

// `Rule` has describe() and ==. `chain` and `hook` name the chain and the built-in chain that
// jumps to it; `otherwise` ends the message of a failure (what does not work, and that
// everything else does).
template <typename Rule>
rules::KernelReport reconcileChain(ChainTable<Rule>& table, const std::vector<Rule>& wanted,
                                   const std::string& chain, const std::string& hook,
                                   const std::string& otherwise) {
    rules::KernelReport report;
    try {
        const ChainState<Rule> found = table.read();
        if (found.rules == wanted && found.hooks == 1) {
            return report;
        }
        table.write(wanted);
        for (const Rule& rule : found.rules) {
            if (std::find(wanted.begin(), wanted.end(), rule) == wanted.end()) {
                report.changes.push_back("removed nat rule " + chain + " " + rule.describe());
            }
        }
        for (const Rule& rule : wanted) {
            if (std::find(found.rules.begin(), found.rules.end(), rule) == found.rules.end()) {
                report.changes.push_back("added nat rule " + chain + " " + rule.describe());
            }
        }
        if (found.hooks != 1) {
            report.changes.push_back(hook + " jumped to " + chain + " " +
                                     std::to_string(found.hooks) + " times, now once");
        }
    } catch (const std::exception& error) {
        report.failures.push_back(std::string(error.what()) + "; " + otherwise);
    }
    return report;
}

} // namespace vpnsteer::nat
