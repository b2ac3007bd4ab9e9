// DNS that follows the VPN (DESIGN.md, "DNS follows the VPN"): while a VPN carries the host,
// systemd-resolved sends every query to that VPN's DNS servers and to nothing else.
//
//  - The VPN's link (its tunnel interface) gets the spec's DNS servers, the routing domain `~.`
//    and DefaultRoute=yes.
//  - Every other link gets DefaultRoute=no; a link that carried an earlier VPN also gets its
//    own servers and domains back.
//  - When no VPN is system-wide any more, every link gets back exactly the servers, domains
//    and DefaultRoute it had before the first VPN became system-wide.
//
// What was there before is saved (SavedStateStore) before anything is changed, and the saved
// copy, not what the links show now, is what Down restores: a restart of vpnsteerd while a VPN
// is system-wide loses nothing. A link that appears while a VPN is system-wide is saved as it
// is then, and its default route is taken too.
#pragma once

#include "core/spec.hpp"
#include "service/resolved/link_dns.hpp"
#include "service/rules/system_wide_rules.hpp"

#include <map>
#include <optional>
#include <string>

namespace vpnsteer::resolved {

// What is saved: the VPN in force and each link's settings from before, by interface name.
struct SavedDns {
    std::string vpn;
    std::map<std::string, LinkDnsSettings> before;

    bool operator==(const SavedDns&) const = default;
};
std::string toJson(const SavedDns& saved);
// Throws std::runtime_error when the text is not such a document.
SavedDns savedDnsFromJson(const std::string& text);

class DnsFollowsVpn {
public:
    DnsFollowsVpn(LinkDnsApi& links, SavedStateStore& store)
        : links_(links)
        , store_(store) {}

    // Makes resolved's links match `carrier` (nullptr: no VPN is system-wide). Idempotent:
    // only settings that differ are written. Never throws; failures are in the report.
    rules::KernelReport follow(const Vpn* carrier);

private:
    rules::KernelReport restore(const SavedDns& saved);
    // Writes `wanted` to `link` where it differs from what the link has.
    void converge(const LinkDns& link, const LinkDnsSettings& wanted, rules::KernelReport& report);
    std::optional<SavedDns> loadSaved(rules::KernelReport& report);

    LinkDnsApi& links_;
    SavedStateStore& store_;
};

} // namespace vpnsteer::resolved
