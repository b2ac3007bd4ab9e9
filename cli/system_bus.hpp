// A connection to the system bus for the CLI's few method calls, with nothing else in the
// process: no library of its own, no thread, no event loop.
//
// Each call is one write and one read: for the first, the authentication (EXTERNAL: the
// credentials the kernel vouches for), BEGIN, Hello and the call go out in one piece, as the
// D-Bus specification allows, and are answered together ("Authentication protocol",
// "Message Bus Messages: Hello").
#pragma once

#include "cli/bus_message.hpp"

#include <string>
#include <vector>

namespace vpnsteer::cli {

class SystemBus {
public:
    // Connects to DBUS_SYSTEM_BUS_ADDRESS, or to /run/dbus/system_bus_socket; throws
    // BusUnavailable (cli/daemon.hpp) when nobody listens there.
    SystemBus();
    ~SystemBus();
    SystemBus(const SystemBus&) = delete;
    SystemBus& operator=(const SystemBus&) = delete;

    // Calls `call` and returns the reply's body. An error reply throws sdbus::Error with its
    // name and message; a bus that goes away or does not answer within 25 s (sd-bus's default)
    // throws sdbus::Error org.freedesktop.DBus.Error.Disconnected or .Timeout.
    std::vector<BusValue> call(const MethodCall& call);

private:
    void send(const std::string& bytes);
    BusMessage receiveReply(std::uint32_t serial);
    void readAuthentication();

    int socket_ = -1;
    std::string pending_;  // written with the next call
    std::string received_; // read, not yet taken
    bool authenticated_ = false;
    std::uint32_t nextSerial_ = 1;
};

// The socket path of a D-Bus address such as "unix:path=/run/dbus/system_bus_socket"
// (the first unix: entry; "%xx" escapes undone), or "" when it has none. An abstract socket
// ("unix:abstract=NAME") comes back with a leading '\0'.
std::string unixSocketPathOf(std::string_view address);

} // namespace vpnsteer::cli
