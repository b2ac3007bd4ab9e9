// Fakes for running `vpnsteer` subcommands in-process: a vpnsteerd that answers from memory
// and records the calls, /proc as a map of file texts, and a fixed clock; and the VpnStatus
// values such a vpnsteerd reports.
#pragma once

#include "cli/daemon.hpp"
#include "cli/subcommand.hpp"

#include <algorithm>
#include <gtest/gtest.h>
#include <map>
#include <memory>
#include <optional>
#include <sdbus-c++/Error.h>
#include <sstream>
#include <string>
#include <vector>

namespace vpnsteer::cli::testing {

// A VPN as vpnsteerd reports it, with the fields that follow from its name and id alone
// (core/spec.hpp, namespace derive): interface NAME, table ID, fwmark ID + 10000 and bridge
// br-NAME. A test sets the rest on the copy, and a bridge the spec names otherwise.
inline VpnStatus vpnWithDerivedFields(const std::string& name, std::uint32_t id,
                                      const std::string& protocol = "wireguard") {
    return VpnStatus{.name = name,
                     .id = id,
                     .protocol = protocol,
                     .interface = name,
                     .table = id,
                     .firewallMark = id + 10000,
                     .bridge = "br-" + name};
}

// The state a FakeDaemon answers from. It outlives the Daemon objects the connector hands
// out, so a test can look at `calls` after the subcommand returned.
struct FakeDaemonState {
    std::vector<VpnStatus> vpns; // in the order ListVpns returns them
    std::string systemWide;
    std::string specPath = "/etc/vpnsteer/vpns.json";
    // Every call, as "Up us", "ListVpns", "GetAll /org/vpnsteer1/vpn/us"...
    std::vector<std::string> calls;
    // Calls (by the first word of their entry in `calls`) that fail with this D-Bus error.
    std::map<std::string, std::pair<std::string, std::string>> failures;
    bool busUnavailable = false;
    int connections = 0;
};

class FakeDaemon final : public Daemon {
public:
    explicit FakeDaemon(FakeDaemonState& state)
        : state_(state) {}

    std::vector<VpnListing> listVpns() override {
        call("ListVpns", "");
        std::vector<VpnListing> listing;
        for (const VpnStatus& vpn : state_.vpns)
            listing.push_back({vpn.name, vpn.id, "/org/vpnsteer1/vpn/" + vpn.name, vpn.systemWide});
        return listing;
    }
    VpnStatus vpnStatus(const VpnListing& listing) override {
        call("GetAll", listing.objectPath);
        auto found = std::ranges::find(state_.vpns, listing.name, &VpnStatus::name);
        if (found == state_.vpns.end())
            throw sdbus::Error("org.freedesktop.DBus.Error.UnknownObject",
                               "Unknown object '" + listing.objectPath + "'.");
        return *found;
    }
    std::string systemWide() override {
        call("SystemWide", "");
        return state_.systemWide;
    }
    std::string specPath() override {
        call("SpecPath", "");
        return state_.specPath;
    }
    void up(const std::string& name) override { call("Up", name); }
    void down(const std::string& name) override { call("Down", name); }
    void switchTo(const std::string& name) override { call("Switch", name); }

private:
    void call(const std::string& method, const std::string& argument) {
        state_.calls.push_back(argument.empty() ? method : method + " " + argument);
        if (auto failure = state_.failures.find(method); failure != state_.failures.end())
            throw sdbus::Error(failure->second.first, failure->second.second);
    }

    FakeDaemonState& state_;
};

// Only exec makes namespaces; its tests put a recorder in place of this.
inline int noNamespace(const BridgeNamespaceRequest&, std::ostream&) {
    ADD_FAILURE() << "a subcommand other than exec made a namespace";
    return 1;
}

// A Host over a FakeDaemonState, fake files and a fixed clock.
struct FakeHost {
    FakeDaemonState daemon;
    std::map<std::string, std::string> files;
    std::int64_t now = 1'700'000'000;

    Host host() {
        return Host{
            .connectDaemon = [this]() -> std::unique_ptr<Daemon> {
                ++daemon.connections;
                if (daemon.busUnavailable)
                    throw BusUnavailable("Failed to open bus (No such file or directory)");
                return std::make_unique<FakeDaemon>(daemon);
            },
            .readFile = [this](const std::string& path) -> std::optional<std::string> {
                auto found = files.find(path);
                if (found == files.end())
                    return std::nullopt;
                return found->second;
            },
            .now = [this] { return now; },
            .caller = [] { return CallerIdentity{}; },
            .runInBridgeNamespace = noNamespace,
        };
    }
};

// For the offline subcommands: any use of the bus, /proc or the clock fails the test.
inline Host offlineHost() {
    return Host{
        .connectDaemon = []() -> std::unique_ptr<Daemon> {
            ADD_FAILURE() << "an offline subcommand connected to vpnsteerd";
            throw BusUnavailable("offline");
        },
        .readFile = [](const std::string& path) -> std::optional<std::string> {
            ADD_FAILURE() << "an offline subcommand read " << path;
            return std::nullopt;
        },
        .now = []() -> std::int64_t {
            ADD_FAILURE() << "an offline subcommand read the clock";
            return 0;
        },
        .caller = [] { return CallerIdentity{}; },
        .runInBridgeNamespace = noNamespace,
    };
}

struct Outcome {
    int status;
    std::string out;
    std::string err;
};

inline Outcome runSubcommand(int (*subcommand)(const Invocation&), std::string_view synopsis,
                             const Host& host, std::vector<std::string_view> args = {},
                             const std::string& input = "") {
    std::istringstream in(input);
    std::ostringstream out, err;
    int status = subcommand(Invocation{args, in, out, err, synopsis, host});
    return {status, out.str(), err.str()};
}

} // namespace vpnsteer::cli::testing
