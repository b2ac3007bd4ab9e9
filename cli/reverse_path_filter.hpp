// The rp_filter check of `vpnsteer status` (issue 5, item 4).
//
// With strict reverse-path filtering (rp_filter=1) the kernel drops a packet when the route
// back to its source does not leave through the interface it came in on. While a VPN is
// system-wide, the route back to the VPN server's address goes through the tunnel (the
// `not fwmark` rule: arriving packets carry no mark), but the server's encrypted replies
// come in on the uplink, so they are dropped and the tunnel never answers. Loose mode (2)
// only asks that some route exists. See "rp_filter" in the kernel's ip-sysctl.rst.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace vpnsteer::cli {

// Reads a small file such as /proc/sys/net/ipv4/conf/all/rp_filter; nullopt when it cannot.
using FileReader = std::function<std::optional<std::string>(const std::string& path)>;

// The sysctls (as sysctl(8) names them, e.g. "net.ipv4.conf.all.rp_filter") that make
// reverse-path filtering strict on the uplink; empty when it is off or loose.
//
// The kernel applies max(conf/all, conf/IF) to interface IF. The uplinks are the interfaces
// of the IPv4 default routes in the main table (/proc/net/route); when there is none (the
// uplink is down), `default` stands in, since the uplink starts from it when it comes back.
// `all` is named when it is what makes an uplink strict, an uplink when it is 1 and `all`
// is 0. Files that cannot be read count as 0.
std::vector<std::string> strictReversePathFilters(const FileReader& read);

// The warning line (without the newline) for one of those sysctls.
std::string reversePathFilterWarning(const std::string& sysctl);

// Reads a whole file; nullopt when it cannot be opened or read.
std::optional<std::string> readSmallFile(const std::string& path);

} // namespace vpnsteer::cli
