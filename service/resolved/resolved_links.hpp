// LinkDnsApi over D-Bus: systemd-resolved's org.freedesktop.resolve1 (Manager.GetLink and the
// Link objects' DNS, Domains and DefaultRoute properties to read; Manager.SetLinkDNS,
// SetLinkDomains and SetLinkDefaultRoute to write).
//
// resolved refuses to change a link that systemd-networkd manages ("Link X is managed.",
// org.freedesktop.resolve1.LinkBusy): networkd hands resolved that link's settings itself,
// from its .network file. For such a link the same call goes to networkd's
// org.freedesktop.network1.Manager, which has the same methods and passes the values on to
// resolved, as resolvectl(1) does. Every tunnel and bridge of vpnsteer is such a link.
#pragma once

#include "service/resolved/link_dns.hpp"

#include <sdbus-c++/IConnection.h>

namespace vpnsteer::resolved {

class ResolvedLinks final : public LinkDnsApi {
public:
    // Calls go out on `bus` (vpnsteerd's own connection) and block until answered, at most a
    // few seconds each.
    explicit ResolvedLinks(sdbus::IConnection& bus)
        : bus_(bus) {}

    std::vector<LinkDns> links() override;
    void setServers(const LinkDns& link, const std::vector<std::string>& servers) override;
    void setDomains(const LinkDns& link, const std::vector<LinkDomain>& domains) override;
    void setDefaultRoute(const LinkDns& link, bool defaultRoute) override;

private:
    sdbus::IConnection& bus_;
};

} // namespace vpnsteer::resolved
