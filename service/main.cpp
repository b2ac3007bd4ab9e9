// vpnsteerd: serves org.vpnsteer1 on the system bus and keeps vpnsteer's routing policy
// rules and kill-switch routes in the kernel (DESIGN.md).
//
// One thread and one sd-event loop: the bus connection (dbus/bus_event_source.hpp), the
// netlink monitor, the WAN DNS forwarder, signals and the timers. A D-Bus call and a netlink
// notification therefore never race over the state.

#include "service/dbus/bus_event_source.hpp"
#include "service/dbus/manager_object.hpp"
#include "service/dbus/names.hpp"
#include "service/dbus/wandns_object.hpp"
#include "service/fastd/tunnel_service.hpp"
#include "service/fastd/unit_restarters.hpp"
#include "service/nat/bridge_snat.hpp"
#include "service/nat/dns_redirect.hpp"
#include "service/nat/iptc_dns_redirect_table.hpp"
#include "service/nat/iptc_snat_table.hpp"
#include "service/resolved/dns_follows_vpn.hpp"
#include "service/resolved/resolved_links.hpp"
#include "service/resolved/saved_state_file.hpp"
#include "service/rules/netlink.hpp"
#include "service/rules/netlink_kill_switch_routes.hpp"
#include "service/rules/netlink_monitor.hpp"
#include "service/rules/netlink_rule_table.hpp"
#include "service/rules/sysctl.hpp"
#include "service/rules/system_wide_rules.hpp"
#include "service/spec_file.hpp"
#include "service/wandns/resolved_watch.hpp"
#include "service/wandns/wan_dns_service.hpp"
#include "service/wireguard/tunnel_service.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <sdbus-c++/sdbus-c++.h>
#include <string>
#include <string_view>
#include <syslog.h>
#include <system_error>
#include <systemd/sd-event.h>
#include <unistd.h>

#ifndef VPNSTEER_SPEC_PATH
#define VPNSTEER_SPEC_PATH "/etc/vpnsteer/vpns.json"
#endif

namespace {

using namespace vpnsteer;
using dbus::EventSourcePtr;

// resolved's link settings from before a VPN became system-wide (service/resolved). /run:
// they matter until reboot, as resolved's own runtime settings do.
constexpr const char* savedDnsPath = "/run/vpnsteer/resolved.json";

// A failed restore is tried again after this long, and again until it works.
constexpr std::uint64_t restoreRetryMicroseconds = 1'000'000;

// stderr with sd-daemon(3) priority prefixes: journald files each line at its priority.
void log(int priority, std::string_view text) {
    std::string line = "<" + std::to_string(priority) + ">" + std::string(text) + "\n";
    [[maybe_unused]] ssize_t written = ::write(STDERR_FILENO, line.data(), line.size());
}

void usage(std::FILE* to) {
    std::fprintf(to,
                 "Usage: vpnsteerd [--spec FILE] [--resolve-interval SECONDS] [--fastd-dir DIR]\n"
                 "                 [--state-dir DIR] [--restart-by-pid-file DIR]\n"
                 "Serves org.vpnsteer1 on the system bus and keeps vpnsteer's routing rules.\n"
                 "  --spec FILE  the spec to serve (default " VPNSTEER_SPEC_PATH ")\n"
                 "  --resolve-interval SECONDS  how often endpoint host names are resolved\n"
                 "               again (default 60)\n"
                 "  --fastd-dir DIR  fastd's configs and status sockets (default\n"
                 "               /run/vpnsteer/fastd, as the generator's)\n"
                 "  --state-dir DIR  where transport modes are kept (default /var/lib/vpnsteer)\n"
                 "  --restart-by-pid-file DIR  restart a fastd unit by SIGTERM to the pid in\n"
                 "               DIR/UNIT.pid instead of through systemd (for a supervisor that\n"
                 "               is not systemd, as in the test lab)\n");
}

struct Options {
    std::string specPath = VPNSTEER_SPEC_PATH;
    vpnsteer::wireguard::TunnelsSettings tunnels;
    vpnsteer::fastd::FastdServiceSettings fastd;
    std::string restartByPidFile; // "": through systemd
};

struct EventDeleter {
    void operator()(sd_event* event) const { sd_event_unref(event); }
};

// The netlink monitor's handlers: what the kernel lost is put back at once; what cannot be
// is tried again by a timer until it works. Nothing escapes into libnl or sd-event.
class Restorer {
public:
    Restorer(sd_event* event, rules::SystemWideRules& rules)
        : rules_(rules) {
        sd_event_source* timer = nullptr;
        dbus::checkSdResult(sd_event_add_time_relative(event, &timer, CLOCK_MONOTONIC,
                                                       restoreRetryMicroseconds, 0,
                                                       &Restorer::onRetry, this),
                            "adding the restore timer");
        retry_.reset(timer);
        dbus::checkSdResult(sd_event_source_set_enabled(timer, SD_EVENT_OFF),
                            "disabling the restore timer");
    }

    template <typename Handler>
    void handle(Handler&& handler) noexcept {
        try {
            report(handler());
        } catch (const std::exception& error) {
            log(LOG_ERR, std::string(error.what()) + ", trying again in 1 s");
            scheduleRetry();
        }
    }

    void restoreAll() noexcept {
        handle([&] { return rules_.restore(); });
    }

private:
    static int onRetry(sd_event_source*, uint64_t, void* self) {
        static_cast<Restorer*>(self)->restoreAll();
        return 0;
    }

    void scheduleRetry() noexcept {
        sd_event_source_set_time_relative(retry_.get(), restoreRetryMicroseconds);
        sd_event_source_set_enabled(retry_.get(), SD_EVENT_ONESHOT);
    }

    void report(const rules::KernelReport& report) {
        for (const std::string& change : report.changes) {
            log(LOG_NOTICE, change);
        }
        for (const std::string& failure : report.failures) {
            log(LOG_ERR, failure + ", trying again in 1 s");
        }
        if (!report.failures.empty()) {
            scheduleRetry();
        }
    }

    rules::SystemWideRules& rules_;
    EventSourcePtr retry_;
};

// Bridge SNAT follows the spec: applied at start and on every Reload.
class BridgeSnatFollower final : public dbus::SpecFollower {
public:
    explicit BridgeSnatFollower(nat::SnatTable& table)
        : snat_(table) {}
    rules::KernelReport specApplied(const Spec& spec) override { return snat_.apply(spec); }

private:
    nat::BridgeSnat snat_;
};

// The tunnel daemons' DNS goes to the WAN DNS forwarder; follows the spec like bridge SNAT.
class DnsRedirectFollower final : public dbus::SpecFollower {
public:
    DnsRedirectFollower(nat::DnsRedirectTable& ipv4, nat::DnsRedirectTable& ipv6)
        : redirect_(ipv4, ipv6, nat::systemGroup) {}
    rules::KernelReport specApplied(const Spec& spec) override { return redirect_.apply(spec); }

private:
    nat::DnsRedirect redirect_;
};

// DNS follows the VPN carrying the host (through systemd-resolved).
class DnsFollower final : public dbus::SpecFollower {
public:
    DnsFollower(resolved::LinkDnsApi& links, resolved::SavedStateStore& store)
        : dns_(links, store) {}
    rules::KernelReport carrierChanged(const Vpn* carrier) override { return dns_.follow(carrier); }

private:
    resolved::DnsFollowsVpn dns_;
};

int onStopSignal(sd_event_source* source, const signalfd_siginfo* info, void*) {
    log(LOG_INFO, std::string("stopping on ") + strsignal(static_cast<int>(info->ssi_signo)) +
                      "; the rules stay in the kernel");
    return sd_event_exit(sd_event_source_get_event(source), EXIT_SUCCESS);
}

int onReloadSignal(sd_event_source*, const signalfd_siginfo*, void* manager) {
    static_cast<dbus::ManagerObject*>(manager)->reloadFromSignal();
    return 0;
}

int onNetlink(sd_event_source*, int, uint32_t, void* monitor) {
    static_cast<rules::NetlinkMonitor*>(monitor)->readPending();
    return 0;
}

int run(const Options& options) {
    const std::string& specPath = options.specPath;
    sd_event* rawEvent = nullptr;
    dbus::checkSdResult(sd_event_new(&rawEvent), "creating the event loop");
    std::unique_ptr<sd_event, EventDeleter> event(rawEvent);

    // sd-event takes signals through a signalfd, which needs them blocked.
    sigset_t signals;
    sigemptyset(&signals);
    for (int signal : {SIGHUP, SIGTERM, SIGINT}) {
        sigaddset(&signals, signal);
    }
    dbus::checkSdResult(sigprocmask(SIG_BLOCK, &signals, nullptr) < 0 ? -errno : 0,
                        "blocking signals");

    rules::RouteNetlinkSocket netlink;
    rules::NetlinkRuleTable ruleTable(netlink);
    rules::NetlinkKillSwitchRoutes killSwitchRoutes(netlink);
    rules::ProcSysctl sysctl;
    rules::SystemWideRules systemWideRules(ruleTable, killSwitchRoutes, sysctl);

    // Listening starts before the first look at the kernel, so nothing removed in between
    // goes unnoticed.
    Restorer restorer(event.get(), systemWideRules);
    rules::NetlinkMonitor monitor(rules::NetlinkEvents{
        .ruleAdded =
            [&](const rules::PolicyRule& rule) {
                restorer.handle([&] { return systemWideRules.ruleAdded(rule); });
            },
        .ruleRemoved =
            [&](const rules::PolicyRule& rule) {
                restorer.handle([&] { return systemWideRules.ruleRemoved(rule); });
            },
        .routeRemoved =
            [&](const rules::KillSwitchRoute& route) {
                restorer.handle([&] { return systemWideRules.routeRemoved(route); });
            },
        .eventsLost = [&] { restorer.restoreAll(); },
    });
    sd_event_source* source = nullptr;
    dbus::checkSdResult(
        sd_event_add_io(event.get(), &source, monitor.fd(), EPOLLIN, &onNetlink, &monitor),
        "watching the netlink monitor");
    EventSourcePtr monitorSource(source);

    std::unique_ptr<sdbus::IConnection> bus = sdbus::createSystemBusConnection();
    dbus::BusEventSource busSource(event.get(), *bus);
    nat::IptcSnatTable snatTable;
    BridgeSnatFollower bridgeSnat(snatTable);
    resolved::ResolvedLinks resolvedLinks(*bus);
    resolved::SavedStateFile savedDns(savedDnsPath);
    DnsFollower dns(resolvedLinks, savedDns);
    nat::IptcDnsRedirectTable redirectIpv4(AddressFamily::ipv4);
    nat::IptcDnsRedirectTable redirectIpv6(AddressFamily::ipv6);
    DnsRedirectFollower dnsRedirect(redirectIpv4, redirectIpv6);
    wandns::WanDnsService wanDns(event.get(), resolvedLinks, &log);
    dbus::ManagerObject manager(
        *bus, systemWideRules, [&] { return readSpecFile(specPath); }, specPath, &log);

    manager.addFollower(bridgeSnat);
    manager.addFollower(dns);
    manager.addFollower(wanDns);
    manager.addFollower(dnsRedirect);
    dbus::WanDnsObject wanDnsObject(*bus, wanDns);
    wandns::ResolvedWatch uplinkDns(event.get(), *bus, [&] { wanDns.refreshUplink(); });

    dbus::checkSdResult(
        sd_event_add_signal(event.get(), &source, SIGHUP, &onReloadSignal, &manager),
        "handling SIGHUP");
    EventSourcePtr hangup(source);
    dbus::checkSdResult(sd_event_add_signal(event.get(), &source, SIGTERM, &onStopSignal, nullptr),
                        "handling SIGTERM");
    EventSourcePtr terminate(source);
    dbus::checkSdResult(sd_event_add_signal(event.get(), &source, SIGINT, &onStopSignal, nullptr),
                        "handling SIGINT");
    EventSourcePtr interrupt(source);

    // WireGuard devices: key, peer, endpoint (service/wireguard).
    wireguard::TunnelService tunnels(event.get(), manager, options.tunnels, &log);
    // Endpoint names go to the same uplink servers as the WAN DNS forwarder's queries.
    tunnels.useUplinkServers([&wanDns] {
        std::vector<wireguard::DnsServer> servers;
        if (wanDns.upstreamSource() != wandns::UpstreamSource::resolved)
            return servers;
        for (const wandns::SocketAddress& upstream : wanDns.upstreams()) {
            wireguard::DnsServer& server = servers.emplace_back();
            std::memcpy(&server.address, upstream.get(), upstream.length());
            server.length = upstream.length();
            server.text = upstream.toString();
        }
        return servers;
    });

    // fastd tunnels: status and transport modes (service/fastd).
    std::unique_ptr<fastd::UnitRestarter> units;
    if (options.restartByPidFile.empty()) {
        units = std::make_unique<fastd::SystemdUnits>(*bus);
    } else {
        units = std::make_unique<fastd::PidFileUnits>(options.restartByPidFile);
    }
    fastd::FastdService fastdTunnels(event.get(), manager, *units, options.fastd, &log);

    manager.start();
    // The name comes last: with Type=dbus, systemd counts vpnsteerd as started once it has
    // it, and by then the kernel holds every rule.
    bus->requestName(dbus::busName);
    log(LOG_INFO, std::string("serving ") + dbus::busName);

    const int status = sd_event_loop(event.get());
    if (status < 0) {
        throw std::system_error(-status, std::generic_category(), "running the event loop");
    }
    if (status != EXIT_SUCCESS) {
        log(LOG_ERR, "lost the connection to the system bus, exiting");
    }
    return status;
}

} // namespace

int main(int argc, char* argv[]) {
    Options options;
    std::string& specPath = options.specPath;
    wireguard::TunnelsSettings& tunnelSettings = options.tunnels;
    for (int i = 1; i < argc; ++i) {
        const std::string_view argument = argv[i];
        if (argument == "--spec" && i + 1 < argc) {
            specPath = argv[++i];
        } else if (argument.starts_with("--spec=")) {
            specPath = std::string(argument.substr(7));
        } else if (argument == "--fastd-dir" && i + 1 < argc) {
            options.fastd.fastdDir = argv[++i];
        } else if (argument == "--state-dir" && i + 1 < argc) {
            options.fastd.stateDir = argv[++i];
        } else if (argument == "--restart-by-pid-file" && i + 1 < argc) {
            options.restartByPidFile = argv[++i];
        } else if (argument == "--resolve-interval" && i + 1 < argc) {
            char* end = nullptr;
            const long seconds = std::strtol(argv[++i], &end, 10);
            if (*end != '\0' || seconds < 1 || seconds > 86400) {
                std::fprintf(stderr,
                             "vpnsteerd: --resolve-interval takes 1..86400 seconds, got '%s'\n",
                             argv[i]);
                return 2;
            }
            tunnelSettings.resolveInterval = std::chrono::seconds(seconds);
            tunnelSettings.checkInterval =
                std::min(tunnelSettings.checkInterval, tunnelSettings.resolveInterval);
        } else if (argument == "--help" || argument == "-h") {
            usage(stdout);
            return 0;
        } else {
            std::fprintf(stderr, "vpnsteerd: unknown argument '%s'\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    try {
        return run(options);
    } catch (const sdbus::Error& error) {
        log(LOG_ERR, "D-Bus: " + error.getName() + ": " + error.getMessage());
    } catch (const std::exception& error) {
        log(LOG_ERR, error.what());
    }
    return EXIT_FAILURE;
}
