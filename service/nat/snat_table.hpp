// The kernel's nat table as bridge SNAT needs it: vpnsteerd's own chain (VPNSTEER-SNAT), the
// jump to it from POSTROUTING, and the SNAT rules inside. The real one is libiptc
// (IptcSnatTable); unit tests use a fake.
#pragma once

#include <string>
#include <vector>

namespace vpnsteer::nat {

// vpnsteerd's chain in the nat table. Everything in it is vpnsteerd's: a write replaces it.
inline constexpr const char* snatChain = "VPNSTEER-SNAT";

// `-s SOURCE -j SNAT --to-source TO_SOURCE`. A rule of the chain that has any other shape
// (somebody added it by hand) is read with `foreign` set and the text iptables would show.
struct SnatRule {
    std::string source;   // the bridge's subnet, "10.20.1.0/24"
    std::string toSource; // the VPN's address, "198.51.100.2"
    bool foreign = false;

    std::string describe() const; // "-s 10.20.1.0/24 -j SNAT --to-source 198.51.100.2"
    bool operator==(const SnatRule&) const = default;
};

// What the kernel holds: the chain's rules in order, and how many rules of POSTROUTING jump
// to the chain. No chain reads as {{}, 0}.
struct SnatChainState {
    std::vector<SnatRule> rules;
    int hooks = 0;

    bool operator==(const SnatChainState&) const = default;
};

class SnatTable {
public:
    virtual ~SnatTable() = default;

    // Throws std::system_error when the table cannot be read (e.g. the kernel has no legacy
    // iptables).
    virtual SnatChainState read() = 0;
    // Makes the kernel hold exactly `rules` in the chain (created when missing) and exactly one
    // jump to it, first in POSTROUTING, in one atomic commit: no packet ever meets half of it.
    // Throws std::system_error.
    virtual void write(const std::vector<SnatRule>& rules) = 0;
};

} // namespace vpnsteer::nat
