#include "cli/daemon_error.hpp"

#include "cli/subcommand.hpp"
#include "service/dbus/names.hpp"

namespace vpnsteer::cli {

namespace {

std::string line(std::string_view text) {
    return std::string(programName) + ": " + std::string(text);
}

bool isNotRunning(std::string_view name) {
    // ServiceUnknown: nobody owns org.vpnsteer1 and no activation file starts it.
    // NameHasNoOwner: the same, for calls that do not activate.
    return name == "org.freedesktop.DBus.Error.ServiceUnknown" ||
           name == "org.freedesktop.DBus.Error.NameHasNoOwner";
}

bool isNoAnswer(std::string_view name) {
    // NoReply also covers "Remote peer disconnected": vpnsteerd died during the call.
    return name == "org.freedesktop.DBus.Error.NoReply" ||
           name == "org.freedesktop.DBus.Error.Timeout" ||
           name == "org.freedesktop.DBus.Error.TimedOut" ||
           name == "org.freedesktop.DBus.Error.Disconnected";
}

bool isActivationFailure(std::string_view name) {
    // dbus-daemon's own activation (Spawn.*) or systemd's (SystemdService= in the
    // activation file) could not start the daemon.
    return name.starts_with("org.freedesktop.DBus.Error.Spawn.") ||
           name.starts_with("org.freedesktop.systemd1.");
}

} // namespace

std::string daemonNotRunningMessage() {
    return line("vpnsteerd is not running; start it with: systemctl start vpnsteerd");
}

std::string describeDaemonError(std::string_view errorName, std::string_view errorMessage,
                                const DaemonErrorContext& context) {
    const std::string message(errorMessage);
    if (isNotRunning(errorName))
        return daemonNotRunningMessage();
    if (errorName == dbus::errors::unknownVpn) {
        return line("no VPN named '" + std::string(context.vpnName) + "' in " +
                    std::string(context.specPath) + "; see: " + std::string(programName) + " list");
    }
    if (errorName == dbus::errors::accessDenied) {
        return line("permission denied: changing VPNs needs root or membership in the vpnsteer "
                    "group");
    }
    if (isNoAnswer(errorName))
        return line("vpnsteerd did not answer (" + message + "); see: journalctl -u vpnsteerd");
    if (isActivationFailure(errorName)) {
        return line("vpnsteerd could not be started (" + message +
                    "); see: journalctl -u vpnsteerd");
    }
    return line("vpnsteerd: " + message + " (" + std::string(errorName) + ")");
}

} // namespace vpnsteer::cli
