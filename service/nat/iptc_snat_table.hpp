// SnatTable through libiptc (libip4tc), the library of iptables-legacy: the x_tables "nat"
// table over the raw-socket get/setsockopt interface, with no iptables process. Each read and
// write takes a fresh snapshot of the table (iptc_init), and a write replaces the whole table
// at once (iptc_commit, IPT_SO_SET_REPLACE): that is the atomic commit.
//
// Needs CAP_NET_ADMIN and CAP_NET_RAW (the raw socket) in the network namespace.
#pragma once

#include "service/nat/snat_table.hpp"

namespace vpnsteer::nat {

class IptcSnatTable final : public SnatTable {
public:
    SnatChainState read() override;
    void write(const std::vector<SnatRule>& rules) override;
};

} // namespace vpnsteer::nat
