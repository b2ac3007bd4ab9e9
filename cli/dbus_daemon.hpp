// The real Daemon: org.vpnsteer1 on the system bus (DBUS_SYSTEM_BUS_ADDRESS when set), through
// the CLI's own lean connection (cli/system_bus.hpp).
#pragma once

#include "cli/bus_message.hpp"
#include "cli/daemon.hpp"

#include <map>
#include <memory>
#include <string>

namespace vpnsteer::cli {

// Connects to the system bus; throws BusUnavailable when it cannot. Whether vpnsteerd owns
// its name shows only at the first call (ServiceUnknown), as with busctl.
std::unique_ptr<Daemon> connectToVpnsteerd();

// The answer of Properties.GetAll("org.vpnsteer1.Vpn") (name to the variant's value) as a
// VpnStatus. A property the daemon does not have keeps its default, so an older vpnsteerd
// still gets a status; one of the wrong type throws sdbus::Error.
VpnStatus vpnStatusFromProperties(const std::map<std::string, BusValue>& properties);

} // namespace vpnsteer::cli
