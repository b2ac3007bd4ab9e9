#include "cli/daemon_call.hpp"

#include "cli/daemon_error.hpp"
#include "service/dbus/names.hpp"

#include <exception>
#include <ostream>
#include <sdbus-c++/Error.h>

#ifndef VPNSTEER_SPEC_PATH
#define VPNSTEER_SPEC_PATH "/etc/vpnsteer/vpns.json"
#endif

namespace vpnsteer::cli {

namespace {

// For the "no VPN named" message: the spec the daemon actually serves, which --spec may
// have moved. The message must come out even when this second call fails too.
std::string specPathOf(Daemon& daemon) {
    try {
        std::string path = daemon.specPath();
        if (!path.empty())
            return path;
    } catch (const std::exception&) {
    }
    return VPNSTEER_SPEC_PATH;
}

} // namespace

int withDaemon(const Invocation& invocation, std::string_view vpnName,
               const std::function<int(Daemon&)>& body) {
    std::unique_ptr<Daemon> daemon;
    try {
        daemon = invocation.host.connectDaemon();
        return body(*daemon);
    } catch (const BusUnavailable&) {
        invocation.err << daemonNotRunningMessage() << '\n';
    } catch (const sdbus::Error& error) {
        std::string specPath;
        if (error.getName() == dbus::errors::unknownVpn && daemon)
            specPath = specPathOf(*daemon);
        invocation.err << describeDaemonError(error.getName(), error.getMessage(),
                                              {.vpnName = vpnName, .specPath = specPath})
                       << '\n';
    } catch (const std::exception& error) {
        invocation.err << programName << ": " << error.what() << '\n';
    }
    return 1;
}

int changeVpn(const Invocation& invocation, void (Daemon::*change)(const std::string& name)) {
    if (invocation.args.size() != 1 || invocation.args[0].starts_with('-'))
        return invocation.usageError();
    const std::string name(invocation.args[0]);
    return withDaemon(invocation, name, [&](Daemon& daemon) {
        (daemon.*change)(name);
        return 0;
    });
}

} // namespace vpnsteer::cli
