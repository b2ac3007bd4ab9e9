// vpnsteer list: one line per VPN of the spec vpnsteerd serves, in id order: its name, its
// id, and "system-wide" when its system-wide rules are in force.
//
//   us   1  system-wide
//   de   7
#include "cli/daemon_call.hpp"
#include "cli/subcommand.hpp"

#include <algorithm>
#include <iomanip>
#include <ostream>
#include <string>

namespace vpnsteer::cli {

int listMain(const Invocation& invocation) {
    if (!invocation.args.empty())
        return invocation.usageError();
    return withDaemon(invocation, "", [&](Daemon& daemon) {
        const std::vector<VpnListing> vpns = daemon.listVpns();
        std::size_t nameWidth = 0;
        std::size_t idWidth = 0;
        for (const VpnListing& vpn : vpns) {
            nameWidth = std::max(nameWidth, vpn.name.size());
            idWidth = std::max(idWidth, std::to_string(vpn.id).size());
        }
        for (const VpnListing& vpn : vpns) {
            invocation.out << std::left << std::setw(static_cast<int>(nameWidth)) << vpn.name
                           << "  " << std::right << std::setw(static_cast<int>(idWidth)) << vpn.id;
            if (vpn.systemWide)
                invocation.out << "  system-wide";
            invocation.out << '\n';
        }
        return 0;
    });
}

} // namespace vpnsteer::cli
