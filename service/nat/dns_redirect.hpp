// The DNS redirect for tunnel daemons (DESIGN.md, "Uplink only"): a program in the group
// `vpnsteer-wan` (units/sysusers-vpnsteer.conf; primary or supplementary) that asks the local
// resolver, 127.0.0.1:53 or systemd-resolved's stub 127.0.0.53:53, over UDP or TCP, is answered
// by the WAN DNS forwarder instead, so it resolves over the uplink while a VPN carries everything
// else (and while that VPN is down). One rule per destination and transport, in vpnsteerd's own nat
// chain VPNSTEER-WANDNS, hooked first from OUTPUT:
//
//   -A OUTPUT -j VPNSTEER-WANDNS
//   -A VPNSTEER-WANDNS -d 127.0.0.53/32 -p udp -m owner --gid-owner GID --suppl-groups
//      -m udp --dport 53 -j DNAT --to-destination 127.0.0.1:54
//
// Only loopback destinations: a packet DNATed to the forwarder keeps its source address, and
// the forwarder serves loopback sources only. For IPv6 the same goes for ::1 to the forwarder's
// first IPv6 address, through ip6tables' nat table. Each family's table is reconciled like
// bridge SNAT (reconcile.hpp), in one commit.
#pragma once

#include "core/spec.hpp"
#include "service/nat/chain_table.hpp"
#include "service/rules/system_wide_rules.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace vpnsteer::nat {

inline constexpr const char* dnsRedirectChain = "VPNSTEER-WANDNS";
inline constexpr const char* wanGroup = "vpnsteer-wan";

enum class Transport { udp, tcp };

struct RedirectRule {
    std::string destination; // "127.0.0.53", "::1"
    Transport transport = Transport::udp;
    std::uint32_t group = 0; // the gid of vpnsteer-wan
    std::string toAddress;   // the forwarder: "127.0.0.1", "::1"
    std::uint16_t toPort = 0;
    // A rule of the chain of any other shape (added by hand): what it is, as iptables-legacy
    // would say it roughly; it never equals a wanted rule.
    std::string foreign;

    // "-d 127.0.0.53/32 -p udp -m owner --gid-owner 998 --suppl-groups -m udp --dport 53 -j
    // DNAT --to-destination 127.0.0.1:54"
    std::string describe() const;
    bool operator==(const RedirectRule&) const = default;
};

// One family's nat table, with OUTPUT as the chain that jumps to VPNSTEER-WANDNS.
using RedirectChainState = ChainState<RedirectRule>;
using DnsRedirectTable = ChainTable<RedirectRule>;

// The wanted rules of `family`: for 127.0.0.1 and 127.0.0.53 (IPv4) or ::1 (IPv6), UDP then
// TCP, to the first address of that family in spec.wan.dns.listen; none without one.
std::vector<RedirectRule> redirectRulesOf(const Spec& spec, std::uint32_t group,
                                          AddressFamily family);

// The gid of a group name, or nothing when the system has no such group.
using GroupLookup = std::function<std::optional<std::uint32_t>(const std::string& name)>;
std::optional<std::uint32_t> systemGroup(const std::string& name); // getgrnam_r

class DnsRedirect {
public:
    DnsRedirect(DnsRedirectTable& ipv4, DnsRedirectTable& ipv6, GroupLookup lookup)
        : ipv4_(ipv4)
        , ipv6_(ipv6)
        , lookup_(std::move(lookup)) {}

    // Makes the kernel's chains match `spec`, IPv4 then IPv6. Without the group, the chains are
    // emptied (still hooked) and the report says why. Never throws.
    rules::KernelReport apply(const Spec& spec);

private:
    DnsRedirectTable& ipv4_;
    DnsRedirectTable& ipv6_;
    GroupLookup lookup_;
};

} // namespace vpnsteer::nat
