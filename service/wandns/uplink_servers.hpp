// The WAN DNS forwarder's upstreams when the spec names none: the DNS servers that
// systemd-resolved holds for the uplink links, that is every link but vpnsteer's own (a VPN's
// tunnel or bridge). While a VPN is system-wide, resolved still keeps the uplink's servers on
// the uplink's link (DNS-follows-the-VPN only takes its default route away), so they stay the
// right answer in every mode.
#pragma once

#include "core/spec.hpp"
#include "service/resolved/link_dns.hpp"
#include "service/wandns/socket_address.hpp"

#include <vector>

namespace vpnsteer::wandns {

// The servers of `links` in link order, port 53, without duplicates, leaving out the links
// `spec` names as tunnels or bridges. A link-local IPv6 server gets its link as scope.
// Addresses that do not parse are left out.
std::vector<SocketAddress> uplinkServersOf(const std::vector<resolved::LinkDns>& links,
                                           const Spec& spec);

} // namespace vpnsteer::wandns
