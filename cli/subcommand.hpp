// What every `vpnsteer` subcommand gets, and the list of them (cli/main.cpp holds the table).
//
// A subcommand is a plain function in a file of its own (cli/check.cpp, cli/genkey.cpp, ...),
// like wireguard-tools' wg.c. It talks to the user only through the streams of its
// Invocation, so unit tests run it in-process with string streams.
#pragma once

#include "cli/bridge_namespace.hpp"
#include "cli/command_user.hpp"
#include "cli/daemon.hpp"
#include "cli/reverse_path_filter.hpp"

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <span>
#include <string_view>

namespace vpnsteer::cli {

// Printed before every error message, as wg prints its own name.
inline constexpr std::string_view programName = "vpnsteer";

// What a subcommand reaches beyond its streams. main() passes the real ones (the system bus,
// /proc, the clock); unit tests pass fakes, and for the offline subcommands a host whose
// daemon connector fails the test, which shows they never need a bus.
struct Host {
    DaemonConnector connectDaemon;
    FileReader readFile;
    std::function<std::int64_t()> now; // seconds since the epoch
    // exec: who called, and the namespace launcher (cli/namespace_launcher.hpp).
    std::function<CallerIdentity()> caller;
    std::function<int(const BridgeNamespaceRequest&, std::ostream& err)> runInBridgeNamespace;
};

struct Invocation {
    std::span<const std::string_view> args; // after the subcommand's name
    std::istream& in;
    std::ostream& out;
    std::ostream& err;
    std::string_view synopsis; // "check FILE": the usage line without the program name
    const Host& host;

    // Prints "Usage: vpnsteer <synopsis>" on stderr and returns the exit status for a usage
    // error (1, as wg does).
    int usageError() const;
};

// Talk to vpnsteerd over D-Bus.
int listMain(const Invocation& invocation);
int statusMain(const Invocation& invocation);
int upMain(const Invocation& invocation);
int downMain(const Invocation& invocation);
int switchMain(const Invocation& invocation);
int execMain(const Invocation& invocation);

// Offline.
int checkMain(const Invocation& invocation);
int genkeyMain(const Invocation& invocation);
int pubkeyMain(const Invocation& invocation);
int fastdGenkeyMain(const Invocation& invocation); // through fastd itself
int fastdPubkeyMain(const Invocation& invocation);
// Runs a command with libpacketmark.so and the WAN mark; returns only when that fails.
int wanMain(const Invocation& invocation);

} // namespace vpnsteer::cli
