// One routing policy rule ("ip rule") of the kinds vpnsteerd manages, as a value, and its
// netlink encoding.
//
// libnl 3.7's rtnl_rule cannot express `suppress_prefixlength` or `not` (FIB_RULE_INVERT),
// both of which the system-wide rules need, so the messages are built and read here with
// libnl's message primitives instead.
#pragma once

#include "core/spec.hpp"
#include "service/rules/netlink.hpp"

#include <compare>
#include <cstdint>
#include <netlink/msg.h>
#include <optional>
#include <string>

namespace vpnsteer::rules {

// The rtm_protocol vpnsteerd puts on the rules and routes it adds, so that it can tell
// them from everybody else's (systemd-networkd's are "static"). 118 is ASCII 'v'; it is
// neither in iproute2's rt_protos nor among the kernel's RTPROT_* values, and no routing
// daemon we know of claims it. `ip rule` shows it as "proto 118".
inline constexpr std::uint8_t vpnsteerProtocol = 118;

inline constexpr std::uint32_t mainTable = 254; // RT_TABLE_MAIN

struct PolicyRule {
    AddressFamily family = AddressFamily::ipv4;
    std::uint32_t priority = 0;
    std::uint32_t table = 0;
    std::optional<std::uint32_t> firewallMark; // matched with the mask 0xffffffff
    bool invert = false;                       // "not"
    std::optional<std::uint32_t> suppressPrefixLength;
    std::uint8_t protocol = vpnsteerProtocol;
    // A rule read from the kernel that matches on something this model does not hold
    // (source, interface, ports, a partial mark mask...) or does not "lookup". It never
    // equals a rule vpnsteerd wants.
    bool hasOtherSelectors = false;

    // "not fwmark 10002 lookup 2", the way `ip rule` writes it (marks in decimal).
    std::string selectorText() const;
    // "IPv4 rule 302 (not fwmark 10002 lookup 2)"
    std::string describe() const;

    // Equal in everything but the protocol: the same rule, added by someone else.
    bool sameEffect(const PolicyRule& other) const;

    auto operator<=>(const PolicyRule&) const = default;
};

// RTM_NEWRULE (with NLM_F_CREATE | NLM_F_EXCL) or RTM_DELRULE for `rule`.
NetlinkMessagePtr encodeRule(const PolicyRule& rule, int messageType);

// A rule from an RTM_NEWRULE or RTM_DELRULE message, or nothing for any other message or one
// that does not parse.
std::optional<PolicyRule> decodeRule(const nlmsghdr* message);

} // namespace vpnsteer::rules
