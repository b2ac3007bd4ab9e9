// Source NAT for the VPNs' bridges (DESIGN.md, "Per application"): whatever sits on br-NAME
// leaves through NAME's tunnel, and the tunnel only carries NAME's own address. One rule per
// VPN with an IPv4 address, `-s 10.20.ID.0/24 -j SNAT --to-source addrV4`, in vpnsteerd's own
// chain, hooked from POSTROUTING.
//
// IPv6 is not source-NATed: the spec gives bridges no IPv6 subnet (networkd's bridge file has
// only 10.20.ID.1/24), so nothing on a bridge has an IPv6 source to translate.
//
// The chain is reconciled, not appended to: the kernel's chain is compared with the wanted one
// and rewritten in one commit only when they differ. The rules stay in the kernel when
// vpnsteerd stops, and the next start finds them in place.
#pragma once

#include "core/spec.hpp"
#include "service/nat/snat_table.hpp"
#include "service/rules/system_wide_rules.hpp"

#include <vector>

namespace vpnsteer::nat {

// The rules for `spec`, in VPN id order. VPNs without addrV4 get none.
std::vector<SnatRule> snatRulesOf(const Spec& spec);

class BridgeSnat {
public:
    explicit BridgeSnat(SnatTable& table)
        : table_(table) {}

    // Makes the kernel's chain match `spec`. Never throws: what failed is in the report,
    // naming what happens next.
    rules::KernelReport apply(const Spec& spec);

private:
    SnatTable& table_;
};

} // namespace vpnsteer::nat
