#include "service/wandns/wan_dns_service.hpp"

#include "service/wandns/uplink_servers.hpp"

#include <exception>
#include <syslog.h>
#include <tuple>

namespace vpnsteer::wandns {

namespace {

std::string describe(const std::vector<SocketAddress>& addresses) {
    std::string text;
    for (const SocketAddress& address : addresses) {
        text += (text.empty() ? "" : " ") + address.toString();
    }
    return text.empty() ? "none" : text;
}

// The spec's endpoints as socket addresses. The core has checked them; one that still does
// not parse is reported and left out.
std::vector<SocketAddress> addressesOf(const std::vector<Endpoint>& endpoints, const char* field,
                                       rules::KernelReport& report) {
    std::vector<SocketAddress> addresses;
    for (const Endpoint& endpoint : endpoints) {
        try {
            addresses.push_back(SocketAddress::fromEndpoint(endpoint));
        } catch (const std::exception& error) {
            report.failures.push_back(std::string("WAN DNS forwarder: ") + field + ": " +
                                      error.what() + ", ignoring it");
        }
    }
    return addresses;
}

} // namespace

std::string_view toString(UpstreamSource source) {
    switch (source) {
    case UpstreamSource::spec:
        return "spec";
    case UpstreamSource::resolved:
        return "systemd-resolved";
    case UpstreamSource::none:
        break;
    }
    return "none";
}

WanDnsService::WanDnsService(sd_event* event, resolved::LinkDnsApi& links, dbus::Journal journal,
                             ForwarderSettings tuning)
    : event_(event)
    , links_(links)
    , journal_(std::move(journal))
    , settings_(std::move(tuning)) {
    settings_.listen.clear();
    settings_.mark = 0;
}

WanDnsService::~WanDnsService() = default;

rules::KernelReport WanDnsService::specApplied(const Spec& spec) {
    rules::KernelReport report;
    const auto before = std::tuple(listening(), upstreams_, source_, settings_.mark);
    spec_ = spec;
    std::vector<SocketAddress> listen = addressesOf(spec.wan.dnsListen, "wan.dns.listen", report);
    const bool settingsChanged =
        !forwarder_ || listen != settings_.listen || spec.wan.mark != settings_.mark;
    settings_.listen = std::move(listen);
    settings_.mark = spec.wan.mark;
    updateUpstreams(report);
    if (settingsChanged) {
        restart(report);
    } else if (forwarder_ && forwarder_->upstreams() != upstreams_) {
        forwarder_->setUpstreams(upstreams_);
    }
    if (before != std::tuple(listening(), upstreams_, source_, settings_.mark)) {
        announce();
    }
    return report;
}

void WanDnsService::restart(rules::KernelReport& report) {
    // The old forwarder holds the addresses the new one binds.
    forwarder_.reset();
    if (settings_.listen.empty()) {
        report.changes.push_back("WAN DNS forwarder: wan.dns.listen is empty, not serving");
        return;
    }
    try {
        forwarder_ = std::make_unique<WanDnsForwarder>(event_, settings_, upstreams_);
        report.changes.push_back(
            "WAN DNS forwarder: serving " + describe(forwarder_->listenAddresses()) +
            " (UDP and TCP), mark " + std::to_string(settings_.mark) + ", upstreams " +
            describe(upstreams_) + " (" + std::string(toString(source_)) + ")");
    } catch (const std::exception& error) {
        report.failures.push_back(std::string("WAN DNS forwarder: ") + error.what() +
                                  "; uplink-only programs cannot resolve through it, everything "
                                  "else works");
    }
}

void WanDnsService::updateUpstreams(rules::KernelReport& report) {
    std::vector<SocketAddress> upstreams;
    UpstreamSource source = UpstreamSource::spec;
    std::string problem;
    if (!spec_.wan.dnsServers.empty()) {
        upstreams = addressesOf(spec_.wan.dnsServers, "wan.dns.servers", report);
    } else {
        try {
            upstreams = uplinkServersOf(links_.links(), spec_);
            source = UpstreamSource::resolved;
            if (upstreams.empty()) {
                problem = "systemd-resolved knows no DNS server on the uplink links";
            }
        } catch (const resolved::ResolvedUnavailable& error) {
            source = UpstreamSource::none;
            problem = std::string(error.what()) + " and the spec names no wan.dns.servers";
        } catch (const std::exception& error) {
            // A link that could not be read: the servers known so far serve on.
            report.failures.push_back(std::string("WAN DNS forwarder: ") + error.what() +
                                      ", keeping upstreams " + describe(upstreams_));
            return;
        }
    }
    if (!problem.empty() && problem != resolvedProblem_) {
        report.failures.push_back("WAN DNS forwarder: " + problem +
                                  "; its queries get SERVFAIL until there is one, everything "
                                  "else works");
    }
    resolvedProblem_ = problem;
    if (upstreams != upstreams_ || source != source_) {
        if (forwarder_ || !upstreams.empty()) {
            report.changes.push_back("WAN DNS forwarder: upstreams " + describe(upstreams) + " (" +
                                     std::string(toString(source)) + ")");
        }
        upstreams_ = std::move(upstreams);
        source_ = source;
        if (forwarder_) {
            forwarder_->setUpstreams(upstreams_);
        }
    }
}

void WanDnsService::refreshUplink() noexcept {
    if (!spec_.wan.dnsServers.empty()) {
        return;
    }
    try {
        const auto before = std::make_pair(upstreams_, source_);
        rules::KernelReport report;
        updateUpstreams(report);
        if (journal_) {
            for (const std::string& change : report.changes) {
                journal_(LOG_INFO, change);
            }
            for (const std::string& failure : report.failures) {
                journal_(LOG_WARNING, failure);
            }
        }
        if (before != std::make_pair(upstreams_, source_)) {
            announce();
        }
    } catch (const std::exception& error) {
        if (journal_) {
            journal_(LOG_ERR, std::string("WAN DNS forwarder: ") + error.what());
        }
    }
}

void WanDnsService::announce() noexcept {
    if (changed_) {
        try {
            changed_();
        } catch (const std::exception&) {
            // A listener that cannot be told misses one announcement; the state is right.
        }
    }
}

std::vector<SocketAddress> WanDnsService::listening() const {
    return forwarder_ ? forwarder_->listenAddresses() : std::vector<SocketAddress>{};
}

ForwarderCounters WanDnsService::counters() const {
    return forwarder_ ? forwarder_->counters() : ForwarderCounters{};
}

std::size_t WanDnsService::queriesInFlight() const {
    return forwarder_ ? forwarder_->queriesInFlight() : 0;
}

} // namespace vpnsteer::wandns
