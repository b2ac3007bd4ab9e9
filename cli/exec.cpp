// vpnsteer exec NAME -- CMD [ARG...]: runs CMD in a network namespace of its own on NAME's
// bridge, so all of its traffic, DNS included, leaves through NAME only (docs/exec.md). The
// original NixOS module's `sane-vpn do`, without firejail.
//
// vpnsteerd says what NAME's bridge, id and DNS servers are (anyone may read them), so exec
// works on the spec the daemon serves; the namespace itself is made here, as root
// (cli/namespace_launcher.hpp). Members of the group vpnsteer get root for this one
// subcommand through sudo, and CMD runs as them again (cli/command_user.hpp).
#include "cli/bridge_namespace.hpp"
#include "cli/command_user.hpp"
#include "cli/daemon_call.hpp"
#include "cli/subcommand.hpp"
#include "service/dbus/names.hpp"

#include <algorithm>
#include <ostream>
#include <sdbus-c++/Error.h>
#include <variant>

namespace vpnsteer::cli {

int execMain(const Invocation& invocation) {
    const auto& args = invocation.args;
    if (args.size() < 3 || args[0].starts_with('-') || args[1] != "--")
        return invocation.usageError();
    // Refused before anything else, so a caller without the rights learns it at once.
    auto user = commandUserOf(invocation.host.caller());
    if (const auto* reason = std::get_if<std::string>(&user)) {
        invocation.err << programName << ": " << *reason << '\n';
        return 1;
    }

    BridgeNamespaceRequest request{.vpnName = std::string(args[0]),
                                   .user = std::get<CommandUser>(user),
                                   .command = {args.begin() + 2, args.end()}};
    // The connection ends before the namespace is made: nothing of the bus reaches CMD.
    int status = withDaemon(invocation, request.vpnName, [&](Daemon& daemon) {
        const std::vector<VpnListing> vpns = daemon.listVpns();
        auto found = std::ranges::find(vpns, request.vpnName, &VpnListing::name);
        if (found == vpns.end())
            throw sdbus::Error(dbus::errors::unknownVpn, "no VPN named '" + request.vpnName + "'");
        const VpnStatus vpn = daemon.vpnStatus(*found);
        request.vpnId = vpn.id;
        request.bridge = vpn.bridge;
        request.dns = vpn.dns;
        return 0;
    });
    if (status != 0)
        return status;
    return invocation.host.runInBridgeNamespace(request, invocation.err);
}

} // namespace vpnsteer::cli
