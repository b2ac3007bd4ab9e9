// The frame of every subcommand that talks to vpnsteerd: connect, run, and turn whatever
// goes wrong into the one line of cli/daemon_error.hpp.
#pragma once

#include "cli/daemon.hpp"
#include "cli/subcommand.hpp"

#include <functional>
#include <string>
#include <string_view>

namespace vpnsteer::cli {

// Connects through invocation.host and runs `body`. When the bus or vpnsteerd fails, prints
// the message for it (about the VPN `vpnName`, if any) on stderr and returns 1; otherwise
// returns what `body` returns.
int withDaemon(const Invocation& invocation, std::string_view vpnName,
               const std::function<int(Daemon&)>& body);

// `vpnsteer up|down|switch NAME`: checks the arguments and makes the one call. Silent on
// success, as `ip` and `networkctl up` are.
int changeVpn(const Invocation& invocation, void (Daemon::*change)(const std::string& name));

} // namespace vpnsteer::cli
