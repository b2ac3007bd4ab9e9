// The WAN DNS forwarder (DESIGN.md, "Uplink only"): answers loopback clients on
// `wan.dns.listen` over UDP and TCP by asking the uplink's DNS servers, from sockets that
// carry the WAN mark, so that the names of VPN endpoints resolve over the real uplink
// whatever routing rules are in force. It keeps no cache: every answer is the upstream's,
// passed through with only its ID changed back.
//
// It runs inside the owner's sd-event loop and never blocks. Every query is bounded in
// time (settings.queryTimeout, then SERVFAIL) and in number (settings.maxQueriesInFlight),
// and so are TCP connections. Nothing a client or an upstream sends can make it throw out
// of the loop.
#pragma once

#include "service/wandns/socket_address.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <systemd/sd-event.h>
#include <vector>

namespace vpnsteer::wandns {

struct ForwarderSettings {
    // Each address is served over UDP and TCP. Port 0 picks a free port (for tests; see
    // WanDnsForwarder::listenAddresses()).
    std::vector<SocketAddress> listen;
    // SO_MARK of every upstream socket (needs CAP_NET_ADMIN). 0 leaves sockets unmarked.
    std::uint32_t mark = 0;
    // How long one upstream gets before the query is also sent to the next.
    std::chrono::milliseconds attemptTimeout{1000};
    // How long a query may take in all before the client gets SERVFAIL. Below the 5 s that
    // glibc (resolv.conf(5) "timeout") and dig wait, so that clients see the SERVFAIL.
    std::chrono::milliseconds queryTimeout{4000};
    std::size_t maxQueriesInFlight = 1024;
    std::size_t maxTcpClients = 64;
    std::size_t maxQueriesPerTcpClient = 16;
    std::size_t maxUpstreamTcpConnections = 64;
    // Upstream UDP sockets (forwarder_upstreams.cpp, upstreamSocket(), says why a pool): per server
    // at most this many take queries at a time; each takes at most upstreamSocketUses queries and
    // only for upstreamSocketLifetime, and closes as soon as no query waits on it.
    std::size_t upstreamSocketsPerServer = 16;
    std::size_t upstreamSocketUses = 64;
    std::chrono::milliseconds upstreamSocketLifetime{2000};
    // A client TCP connection with nothing pending is closed after this long (RFC 7766 §6.2.3
    // suggests seconds, not minutes).
    std::chrono::milliseconds tcpIdleTimeout{10000};
};

struct ForwarderCounters {
    std::uint64_t queries = 0;           // client queries taken for forwarding, UDP and TCP
    std::uint64_t answers = 0;           // upstream answers relayed to a client
    std::uint64_t servfails = 0;         // SERVFAIL answers made here (timeout, no upstream)
    std::uint64_t timeouts = 0;          // upstream attempts that got no answer in time
    std::uint64_t truncatedRetries = 0;  // truncated UDP answers asked again over TCP
    std::uint64_t refused = 0;           // packets and connections from non-loopback clients
    std::uint64_t malformedDropped = 0;  // client or upstream packets that are not usable DNS
    std::uint64_t mismatchedAnswers = 0; // upstream answers with another ID or question
    std::uint64_t formatErrors = 0;      // queries answered FORMERR/NOTIMP without forwarding
    std::uint64_t overloaded = 0;        // queries and connections turned away at a bound
    std::uint64_t upstreamErrors = 0;    // sends and receives an upstream refused at once
};

class WanDnsForwarder {
public:
    // Binds every listen address (throws std::system_error naming the address), checks
    // that the mark can be set (throws std::system_error if not), and attaches to `event`,
    // which must outlive the forwarder. `upstreams` may be empty: queries then get
    // SERVFAIL until setUpstreams() gives some.
    WanDnsForwarder(sd_event* event, ForwarderSettings settings,
                    std::vector<SocketAddress> upstreams = {});
    ~WanDnsForwarder();
    WanDnsForwarder(const WanDnsForwarder&) = delete;
    WanDnsForwarder& operator=(const WanDnsForwarder&) = delete;
    WanDnsForwarder(WanDnsForwarder&&) noexcept;
    WanDnsForwarder& operator=(WanDnsForwarder&&) noexcept;

    // The servers to ask, in order of preference. Queries already sent finish with the
    // server they went to; their retries use the new list. Must not be called from within
    // one of the forwarder's own callbacks (it has none that call out).
    void setUpstreams(std::vector<SocketAddress> upstreams);
    const std::vector<SocketAddress>& upstreams() const;

    // The addresses actually bound, in the order of settings.listen (port 0 resolved).
    const std::vector<SocketAddress>& listenAddresses() const;

    ForwarderCounters counters() const;
    std::size_t queriesInFlight() const;
    std::size_t tcpClients() const;

private:
    class Impl;
    std::unique_ptr<Impl> impl_;
};

} // namespace vpnsteer::wandns
