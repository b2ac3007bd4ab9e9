// vpnsteer: one program, one small file per subcommand (like wireguard-tools' wg). This file
// only finds the subcommand in the table and hands it the rest of the command line.
//
// To add a subcommand: write cli/NAME.cpp with `int NAMEMain(const Invocation&)`, declare it
// in cli/subcommand.hpp, add it to cli/CMakeLists.txt and add one row below.
#include "cli/dbus_daemon.hpp"
#include "cli/namespace_launcher.hpp"
#include "cli/reverse_path_filter.hpp"
#include "cli/subcommand.hpp"

#include <array>
#include <ctime>
#include <iostream>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace vpnsteer::cli {
namespace {

struct Subcommand {
    std::string_view name;
    std::string_view arguments; // shown after the name in usage lines
    std::string_view description;
    int (*run)(const Invocation&);
};

// In the order `vpnsteer help` lists them.
constexpr std::array subcommands{
    Subcommand{"list", "", "Lists the VPNs vpnsteerd serves, in id order", listMain},
    Subcommand{"status", "[NAME] [--json]",
               "Shows the state of every VPN, or of NAME, and which one is system-wide",
               statusMain},
    Subcommand{"up", "NAME", "Makes NAME system-wide: all internet traffic goes through it",
               upMain},
    Subcommand{"down", "NAME", "Takes NAME's system-wide rules away again", downMain},
    Subcommand{"switch", "NAME",
               "Makes NAME system-wide, then takes every other VPN down, with no gap", switchMain},
    Subcommand{"exec", "NAME -- CMD [ARG...]",
               "Runs CMD on NAME's bridge: all its traffic and DNS go through NAME", execMain},
    Subcommand{"check", "FILE", "Validates a spec file (- for stdin) and prints one line per VPN",
               checkMain},
    Subcommand{"genkey", "", "Generates a new WireGuard private key and writes it to stdout",
               genkeyMain},
    Subcommand{"pubkey", "",
               "Reads a WireGuard private key from stdin and writes its public key to stdout",
               pubkeyMain},
    Subcommand{"fastd-genkey", "",
               "Generates a new fastd secret with fastd and writes its secretFile line to stdout",
               fastdGenkeyMain},
    Subcommand{"fastd-pubkey", "[FILE]",
               "Reads a fastd secret (FILE or stdin) and writes its public key, as fastd shows it",
               fastdPubkeyMain},
    Subcommand{"wan", "[--spec FILE | --mark N] -- CMD [ARG]...",
               "Runs CMD with every socket WAN-marked: it uses the uplink, not a VPN", wanMain},
};

void printUsage(std::ostream& stream) {
    stream << "Usage: " << programName << " <cmd> [<args>]\n\n"
           << "Available subcommands:\n";
    for (const Subcommand& subcommand : subcommands)
        stream << "  " << subcommand.name << ": " << subcommand.description << '\n';
    stream << "You may pass `--help' to any of these subcommands to view usage.\n";
}

bool isHelp(std::string_view arg) {
    return arg == "help" || arg == "--help" || arg == "-h";
}

int run(std::span<const std::string_view> args, const Host& host) {
    if (args.empty()) {
        printUsage(std::cerr);
        return 1;
    }
    if (args.size() == 1 && isHelp(args[0])) {
        printUsage(std::cout);
        return 0;
    }
    if (args.size() == 1 && (args[0] == "--version" || args[0] == "version")) {
        std::cout << programName << ' ' << VPNSTEER_VERSION << '\n';
        return 0;
    }

    for (const Subcommand& subcommand : subcommands) {
        if (args[0] != subcommand.name)
            continue;
        std::string synopsis(subcommand.name);
        if (!subcommand.arguments.empty())
            synopsis.append(" ").append(subcommand.arguments);
        // Every subcommand answers a lone --help the same way, so their own code never has to.
        if (args.size() == 2 && (args[1] == "--help" || args[1] == "-h")) {
            std::cout << "Usage: " << programName << ' ' << synopsis << '\n';
            return 0;
        }
        const Invocation invocation{args.subspan(1), std::cin, std::cout,
                                    std::cerr,       synopsis, host};
        return subcommand.run(invocation);
    }

    std::cerr << "Invalid subcommand: `" << args[0] << "'\n";
    printUsage(std::cerr);
    return 1;
}

} // namespace
} // namespace vpnsteer::cli

int main(int argc, char* argv[]) {
    const std::vector<std::string_view> args(argv + 1, argv + argc);
    const vpnsteer::cli::Host host{
        .connectDaemon = vpnsteer::cli::connectToVpnsteerd,
        .readFile = vpnsteer::cli::readSmallFile,
        .now = [] { return static_cast<std::int64_t>(std::time(nullptr)); },
        .caller = vpnsteer::cli::currentCaller,
        .runInBridgeNamespace = vpnsteer::cli::runInBridgeNamespace,
    };
    int status = vpnsteer::cli::run(args, host);
    // A full disk or a closed pipe must not pass for success: the key or summary is lost.
    std::cout.flush();
    if (!std::cout) {
        std::cerr << vpnsteer::cli::programName << ": cannot write to standard output\n";
        return 1;
    }
    return status;
}
