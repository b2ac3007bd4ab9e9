// DnsRedirectTable through libiptc, like IptcSnatTable: the VPNSTEER-WANDNS chain of one
// family's nat table (libip4tc or libip6tc) and its hook in OUTPUT, read from a fresh snapshot
// and written in one commit.
#pragma once

#include "service/nat/dns_redirect.hpp"

namespace vpnsteer::nat {

class IptcDnsRedirectTable final : public DnsRedirectTable {
public:
    explicit IptcDnsRedirectTable(AddressFamily family)
        : family_(family) {}
    RedirectChainState read() override;
    void write(const std::vector<RedirectRule>& rules) override;

private:
    AddressFamily family_;
};

} // namespace vpnsteer::nat
