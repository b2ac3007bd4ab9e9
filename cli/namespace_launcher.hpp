// The kernel side of `vpnsteer exec`: makes the network namespace of a BridgeNamespaceRequest,
// runs the command in it, and takes it apart again. Needs root (cli/command_user.hpp says who
// gets here); docs/exec.md describes the result.
#pragma once

#include "cli/bridge_namespace.hpp"

#include <iosfwd>

namespace vpnsteer::cli {

// Address locks, one file per address (`flock`ed for the life of its namespace).
inline constexpr const char* execLockDirectory = "/run/vpnsteer/exec";

// Runs request.command as request.user in a new network and mount namespace whose only link
// is a veth into request.bridge, with an address of the bridge's subnet, a default route via
// the bridge and the VPN's DNS servers in its own /etc/resolv.conf. Returns the command's exit
// status, 128+N when signal N ended it (as a shell reports it), 126 or 127 when it could not
// be executed, and 1 when the namespace could not be made; the reason goes to `err`.
//
// SIGTERM, SIGHUP, SIGINT and SIGQUIT sent to vpnsteer are passed on to the command; if
// vpnsteer itself is killed, the kernel kills the command (PR_SET_PDEATHSIG). The veth is
// deleted when the command ends, and with the namespace when its last process ends.
int runInBridgeNamespace(const BridgeNamespaceRequest& request, std::ostream& err);

// This process's ids and sudo's variables.
CallerIdentity currentCaller();

} // namespace vpnsteer::cli
