// A kill-switch route: `unreachable default table ID metric 4294967295`, one per family in
// every VPN table. When the tunnel's own default route is gone, lookups in the table end here
// instead of falling through to `main` (DESIGN.md, "Kill switch").
#pragma once

#include "core/spec.hpp"
#include "service/rules/netlink.hpp"
#include "service/rules/policy_rule.hpp"

#include <compare>
#include <cstdint>
#include <netlink/msg.h>
#include <optional>
#include <string>

namespace vpnsteer::rules {

struct KillSwitchRoute {
    AddressFamily family = AddressFamily::ipv4;
    std::uint32_t table = 0;
    std::uint8_t protocol = vpnsteerProtocol;

    // "IPv4 route unreachable default table 2 metric 4294967295"
    std::string describe() const;
    // The same route, whoever added it (systemd-networkd adds them from the bridge's
    // .network file; vpnsteerd adds any it has not).
    bool sameRoute(const KillSwitchRoute& other) const {
        return family == other.family && table == other.table;
    }

    auto operator<=>(const KillSwitchRoute&) const = default;
};

// RTM_NEWROUTE (with NLM_F_CREATE | NLM_F_EXCL) or RTM_DELROUTE for `route`.
NetlinkMessagePtr encodeRoute(const KillSwitchRoute& route, int messageType);

// The kill-switch route an RTM_NEWROUTE or RTM_DELROUTE message is about, or nothing for any
// other route or message.
std::optional<KillSwitchRoute> decodeKillSwitchRoute(const nlmsghdr* message);

} // namespace vpnsteer::rules
