// The kernel's nat table as bridge SNAT needs it: vpnsteerd's own chain (VPNSTEER-SNAT), the
// jump to it from POSTROUTING, and the SNAT rules inside. The real one is libiptc
// (IptcSnatTable); unit tests use a fake.
#pragma once

#include "service/nat/chain_table.hpp"

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

// The chain's state, and the table, with POSTROUTING as the chain that jumps to it.
using SnatChainState = ChainState<SnatRule>;
using SnatTable = ChainTable<SnatRule>;

} // namespace vpnsteer::nat
