// vpnsteer switch NAME: brings NAME up, then every other system-wide VPN down
// (org.vpnsteer1.Manager.Switch), so the host is never without a VPN in between.
#include "cli/daemon_call.hpp"
#include "cli/subcommand.hpp"

namespace vpnsteer::cli {

int switchMain(const Invocation& invocation) {
    return changeVpn(invocation, &Daemon::switchTo);
}

} // namespace vpnsteer::cli
