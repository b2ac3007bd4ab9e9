// vpnsteer up NAME: makes NAME system-wide (org.vpnsteer1.Manager.Up): all of the host's internet
// traffic goes through it. Idempotent.
#include "cli/daemon_call.hpp"
#include "cli/subcommand.hpp"

namespace vpnsteer::cli {

int upMain(const Invocation& invocation) {
    return changeVpn(invocation, &Daemon::up);
}

} // namespace vpnsteer::cli
