// One of vpnsteerd's own nat chains as its logic sees it (bridge SNAT, the DNS redirect): the
// chain's rules and the jumps to it from a built-in chain, read and written as a whole. The
// real tables are libiptc (iptc_*_table.hpp); unit tests use fakes.
#pragma once

#include <vector>

namespace vpnsteer::nat {

// What the kernel holds: the chain's rules in order, and how many rules of the built-in chain
// jump to it. No chain reads as {{}, 0}.
template <typename Rule>
struct ChainState {
    std::vector<Rule> rules;
    int hooks = 0;

    bool operator==(const ChainState&) const = default;
};

template <typename Rule>
class ChainTable {
public:
    virtual ~ChainTable() = default;

    // Throws std::system_error when the table cannot be read (e.g. the kernel has no legacy
    // iptables).
    virtual ChainState<Rule> read() = 0;
    // Makes the kernel hold exactly `rules` in the chain (created when missing) and exactly one
    // jump to it, first in the built-in chain, in one atomic commit: no packet ever meets half
    // of it. Throws std::system_error.
    virtual void write(const std::vector<Rule>& rules) = 0;
};

} // namespace vpnsteer::nat
