// DnsRedirectTable through libiptc, like IptcSnatTable: the nat table's VPNSTEER-WANDNS chain
// and its hook in OUTPUT, read from a fresh snapshot and written in one commit.
#pragma once

#include "service/nat/dns_redirect.hpp"

namespace vpnsteer::nat {

class IptcDnsRedirectTable final : public DnsRedirectTable {
public:
    RedirectChainState read() override;
    void write(const std::vector<RedirectRule>& rules) override;
};

} // namespace vpnsteer::nat
