// vpnsteer status [NAME] [--json]: what vpnsteerd knows about every VPN, or about NAME, and
// which VPN carries the host's traffic; as text like `wg show`, or as JSON for scripts
// (cli/status_format.hpp has both layouts).
//
// It also warns, on stderr, when strict reverse-path filtering would drop a system-wide
// VPN's replies (cli/reverse_path_filter.hpp).
#include "cli/daemon_call.hpp"
#include "cli/reverse_path_filter.hpp"
#include "cli/status_format.hpp"
#include "cli/subcommand.hpp"
#include "service/dbus/names.hpp"

#include <algorithm>
#include <optional>
#include <ostream>
#include <sdbus-c++/Error.h>
#include <string>

namespace vpnsteer::cli {

int statusMain(const Invocation& invocation) {
    bool json = false;
    std::optional<std::string> name;
    for (std::string_view arg : invocation.args) {
        if (arg == "--json" && !json)
            json = true;
        else if (arg.starts_with('-') || name)
            return invocation.usageError();
        else
            name = std::string(arg);
    }

    return withDaemon(invocation, name.value_or(""), [&](Daemon& daemon) {
        std::vector<VpnListing> vpns = daemon.listVpns();
        if (name) {
            std::erase_if(vpns, [&](const VpnListing& vpn) { return vpn.name != *name; });
            // The same answer as Up or Down give for a name the spec lacks.
            if (vpns.empty())
                throw sdbus::Error(dbus::errors::unknownVpn, "no VPN named '" + *name + "'");
        }
        DaemonStatus status{.systemWide = daemon.systemWide(), .vpns = {}};
        for (const VpnListing& vpn : vpns)
            status.vpns.push_back(daemon.vpnStatus(vpn));

        if (json)
            invocation.out << statusJson(status);
        else
            writeStatusText(invocation.out, status, invocation.host.now());
        for (const std::string& sysctl : strictReversePathFilters(invocation.host.readFile))
            invocation.err << reversePathFilterWarning(sysctl) << '\n';
        return 0;
    });
}

} // namespace vpnsteer::cli
