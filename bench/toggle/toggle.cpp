// bench/toggle: what making a VPN system-wide and back costs, measured in the same run
// (issue 3, "Benchmark bench/toggle"), and how long a rule deleted behind vpnsteerd's back
// stays missing. Run it inside a namespace where vpnsteerd serves (bench/toggle/run.sh).
//
//   vpnsteer over D-Bus  one persistent connection, N Up+Down pairs (dual-stack: each pair
//                        adds and removes 4 rules)
//   ip rule processes    the original NixOS module's way: per pair, 2 `ip rule add` and
//                        2 `ip rule del` processes, IPv4 only
//   vpnsteer CLI         per pair, `vpnsteer up NAME` and `vpnsteer down NAME` processes
//                        (with --cli PATH), each one connection and one round trip
//   restore latency      a rule of vpnsteerd's deleted over netlink: the time from the
//                        kernel's deletion notice to the notice of its return
#include "service/dbus/manager_proxy.hpp"
#include "service/dbus/names.hpp"
#include "service/rules/netlink.hpp"
#include "service/rules/netlink_monitor.hpp"
#include "service/rules/netlink_rule_table.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <optional>
#include <poll.h>
#include <sdbus-c++/sdbus-c++.h>
#include <spawn.h>
#include <stdexcept>
#include <string>
#include <string_view>
#include <sys/wait.h>
#include <vector>

extern char** environ;

namespace {

using Clock = std::chrono::steady_clock;
using Microseconds = std::chrono::duration<double, std::micro>;

struct Options {
    std::string vpn;
    int vpnId = 0;
    int ipId = 0; // the id whose numbers the `ip` path uses, so it never meets vpnsteerd's
    int pairs = 1000;
    int restores = 200;
    std::string cli;
};

struct Figures {
    std::vector<double> samples; // microseconds

    double percentile(double p) const {
        std::vector<double> sorted = samples;
        std::sort(sorted.begin(), sorted.end());
        if (sorted.empty()) {
            return 0;
        }
        auto index = static_cast<std::size_t>(p * static_cast<double>(sorted.size() - 1) + 0.5);
        return sorted[index];
    }
    double mean() const {
        double sum = 0;
        for (double sample : samples) {
            sum += sample;
        }
        return samples.empty() ? 0 : sum / static_cast<double>(samples.size());
    }
};

void print(const char* what, const Figures& figures) {
    std::printf("%-34s %8.1f %8.1f %8.1f %9.1f\n", what, figures.mean(), figures.percentile(0.5),
                figures.percentile(0.99),
                *std::max_element(figures.samples.begin(), figures.samples.end()));
}

class ManagerProxy final : public sdbus::ProxyInterfaces<org::vpnsteer1::Manager_proxy> {
public:
    explicit ManagerProxy(sdbus::IConnection& connection)
        : ProxyInterfaces(connection, vpnsteer::dbus::busName, vpnsteer::dbus::managerPath) {
        registerProxy();
    }
    ~ManagerProxy() { unregisterProxy(); }
};

// Runs a program and waits for it; throws when it fails.
void run(const std::vector<std::string>& argv) {
    std::vector<char*> pointers;
    for (const std::string& argument : argv) {
        pointers.push_back(const_cast<char*>(argument.c_str()));
    }
    pointers.push_back(nullptr);
    pid_t pid = 0;
    if (int error = posix_spawnp(&pid, pointers[0], nullptr, nullptr, pointers.data(), environ)) {
        throw std::runtime_error("starting " + argv[0] + ": " + std::strerror(error));
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        std::string command;
        for (const std::string& argument : argv) {
            command += " " + argument;
        }
        throw std::runtime_error("failed:" + command);
    }
}

template <typename Pair>
Figures timePairs(int pairs, Pair&& pair) {
    Figures figures;
    figures.samples.reserve(static_cast<std::size_t>(pairs));
    for (int i = 0; i < pairs; ++i) {
        const auto start = Clock::now();
        pair();
        figures.samples.push_back(Microseconds(Clock::now() - start).count());
    }
    return figures;
}

Figures dbusPairs(const Options& options) {
    auto connection = sdbus::createSystemBusConnection();
    ManagerProxy manager(*connection);
    return timePairs(options.pairs, [&] {
        manager.Up(options.vpn);
        manager.Down(options.vpn);
    });
}

Figures ipPairs(const Options& options) {
    const std::string keepLocal = std::to_string(100 + options.ipId);
    const std::string everything = std::to_string(300 + options.ipId);
    const std::string mark = std::to_string(10000 + options.ipId);
    const std::string table = std::to_string(options.ipId);
    return timePairs(options.pairs, [&] {
        run({"ip", "rule", "add", "priority", keepLocal, "table", "main", "suppress_prefixlength",
             "0"});
        run({"ip", "rule", "add", "priority", everything, "not", "fwmark", mark, "table", table});
        run({"ip", "rule", "del", "priority", everything, "not", "fwmark", mark, "table", table});
        run({"ip", "rule", "del", "priority", keepLocal, "table", "main", "suppress_prefixlength",
             "0"});
    });
}

Figures cliPairs(const Options& options) {
    return timePairs(options.pairs, [&] {
        run({options.cli, "up", options.vpn});
        run({options.cli, "down", options.vpn});
    });
}

// Deletes vpnsteerd's `not fwmark` IPv4 rule over and over, timing from the kernel's
// RTM_DELRULE notice to the RTM_NEWRULE of its return.
Figures restoreLatency(const Options& options) {
    using namespace vpnsteer;
    rules::PolicyRule rule;
    rule.family = AddressFamily::ipv4;
    rule.priority = static_cast<std::uint32_t>(300 + options.vpnId);
    rule.table = static_cast<std::uint32_t>(options.vpnId);
    rule.firewallMark = static_cast<std::uint32_t>(10000 + options.vpnId);
    rule.invert = true;

    std::optional<Clock::time_point> removedAt;
    std::optional<Clock::time_point> backAt;
    rules::NetlinkMonitor monitor(rules::NetlinkEvents{
        .ruleAdded =
            [&](const rules::PolicyRule& added) {
                if (added == rule && removedAt) {
                    backAt = Clock::now();
                }
            },
        .ruleRemoved =
            [&](const rules::PolicyRule& removed) {
                if (removed == rule) {
                    removedAt = Clock::now();
                }
            },
        .routeRemoved = nullptr,
        .eventsLost = nullptr,
    });
    rules::RouteNetlinkSocket socket;
    rules::NetlinkRuleTable table(socket);

    auto connection = sdbus::createSystemBusConnection();
    ManagerProxy manager(*connection);
    manager.Up(options.vpn);

    Figures figures;
    for (int i = 0; i < options.restores; ++i) {
        removedAt.reset();
        backAt.reset();
        if (!table.remove(rule)) {
            throw std::runtime_error("rule " + rule.describe() + " was not there to delete");
        }
        const auto deadline = Clock::now() + std::chrono::seconds(2);
        while (!backAt && Clock::now() < deadline) {
            pollfd fd{monitor.fd(), POLLIN, 0};
            ::poll(&fd, 1, 100);
            monitor.readPending();
        }
        if (!backAt || !removedAt) {
            throw std::runtime_error(rule.describe() + " did not come back within 2 s");
        }
        figures.samples.push_back(Microseconds(*backAt - *removedAt).count());
    }
    manager.Down(options.vpn);
    return figures;
}

void usage() {
    std::fprintf(stderr, "usage: vpnsteer-bench-toggle --vpn NAME --vpn-id ID --ip-id ID "
                         "[--pairs N] [--restores N] [--cli PATH]\n");
}

} // namespace

int main(int argc, char* argv[]) {
    Options options;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string_view option = argv[i];
        const char* value = argv[i + 1];
        if (option == "--vpn") {
            options.vpn = value;
        } else if (option == "--vpn-id") {
            options.vpnId = std::atoi(value);
        } else if (option == "--ip-id") {
            options.ipId = std::atoi(value);
        } else if (option == "--pairs") {
            options.pairs = std::atoi(value);
        } else if (option == "--restores") {
            options.restores = std::atoi(value);
        } else if (option == "--cli") {
            options.cli = value;
        } else {
            usage();
            return 2;
        }
    }
    if (options.vpn.empty() || options.vpnId <= 0 || options.ipId <= 0 || options.pairs <= 0 ||
        options.restores <= 0 || options.ipId == options.vpnId) {
        usage();
        return 2;
    }
    try {
        std::printf("%d Up+Down pairs each; microseconds per pair\n", options.pairs);
        std::printf("%-34s %8s %8s %8s %9s\n", "", "mean", "p50", "p99", "max");
        const Figures dbus = dbusPairs(options);
        print("vpnsteer D-Bus (IPv4+IPv6)", dbus);
        const Figures ip = ipPairs(options);
        print("ip rule processes (IPv4 only)", ip);
        std::optional<Figures> cli;
        if (!options.cli.empty()) {
            cli = cliPairs(options);
            print("vpnsteer CLI processes (IPv4+IPv6)", *cli);
        }
        // The median too: on a shared machine a few slow pairs can move the means a lot.
        std::printf("\nip / D-Bus: %.1fx by the mean, %.1fx by the median (target: at least 10x)\n",
                    ip.mean() / dbus.mean(), ip.percentile(0.5) / dbus.percentile(0.5));
        if (cli) {
            std::printf(
                "ip / CLI:   %.2fx by the mean, %.2fx by the median (target: at least 1x)\n",
                ip.mean() / cli->mean(), ip.percentile(0.5) / cli->percentile(0.5));
        } else {
            std::printf("CLI path:   not measured (pass --cli PATH to a vpnsteer with up/down)\n");
        }

        const Figures restore = restoreLatency(options);
        std::printf("\nrestore of a deleted rule, %d times; microseconds missing\n",
                    options.restores);
        std::printf("%-34s %8s %8s %8s %9s\n", "", "mean", "p50", "p99", "max");
        print("RTM_DELRULE to RTM_NEWRULE", restore);
        std::printf("max %.2f ms (target: under 10 ms)\n",
                    *std::max_element(restore.samples.begin(), restore.samples.end()) / 1000.0);
    } catch (const sdbus::Error& error) {
        std::fprintf(stderr, "vpnsteer-bench-toggle: %s: %s\n", error.getName().c_str(),
                     error.getMessage().c_str());
        return 1;
    } catch (const std::exception& error) {
        std::fprintf(stderr, "vpnsteer-bench-toggle: %s\n", error.what());
        return 1;
    }
    return 0;
}
