// The real Daemon: org.vpnsteer1 on the system bus (DBUS_SYSTEM_BUS_ADDRESS when set, which
// sd-bus honours by itself), through the sdbus-c++ proxies generated from service/*.xml.
#pragma once

#include "cli/daemon.hpp"

#include <map>
#include <memory>
#include <sdbus-c++/Types.h>
#include <string>

namespace vpnsteer::cli {

// Connects to the system bus; throws BusUnavailable when it cannot. Whether vpnsteerd owns
// its name shows only at the first call (ServiceUnknown), as with busctl.
std::unique_ptr<Daemon> connectToVpnsteerd();

// The answer of Properties.GetAll("org.vpnsteer1.Vpn") as a VpnStatus. A property the daemon
// does not have keeps its default, so an older vpnsteerd still gets a status; one of the
// wrong type throws sdbus::Error.
VpnStatus vpnStatusFromProperties(const std::map<std::string, sdbus::Variant>& properties);

} // namespace vpnsteer::cli
