// vpnsteer down NAME: removes exactly the rules `vpnsteer up NAME` added
// (org.vpnsteer1.Manager.Down). Idempotent.
#include "cli/daemon_call.hpp"
#include "cli/subcommand.hpp"

namespace vpnsteer::cli {

int downMain(const Invocation& invocation) {
    return changeVpn(invocation, &Daemon::down);
}

} // namespace vpnsteer::cli
