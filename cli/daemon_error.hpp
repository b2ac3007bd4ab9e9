// What the CLI says when talking to vpnsteerd fails: one line that names the problem and
// what to do about it, as wg and networkctl do. Pure: the D-Bus error comes in as strings.
#pragma once

#include <string>
#include <string_view>

namespace vpnsteer::cli {

// Where the failing call was aimed, for messages that name it.
struct DaemonErrorContext {
    std::string_view vpnName;  // the VPN the command was about, or ""
    std::string_view specPath; // the spec vpnsteerd serves (Manager.SpecPath)
};

// The line (without its newline) for a D-Bus error NAME with MESSAGE.
std::string describeDaemonError(std::string_view errorName, std::string_view errorMessage,
                                const DaemonErrorContext& context);

// The line for a system bus that cannot be reached: vpnsteerd cannot be running either.
std::string daemonNotRunningMessage();

} // namespace vpnsteer::cli
