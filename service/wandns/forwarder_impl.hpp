// The WAN DNS forwarder's implementation class, shared by its three sources:
//   forwarder.cpp            construction, timers, a query's start and end
//   forwarder_clients.cpp    the client side: UDP listeners, TCP listeners and connections
//   forwarder_upstreams.cpp  the upstream side: the UDP socket pool, retries, the TCP retry
// Private to service/wandns: the daemon includes forwarder.hpp only.
#pragma once

#include "service/wandns/dns_message.hpp"
#include "service/wandns/forwarder.hpp"
#include "service/wandns/handles.hpp"
#include "service/wandns/random_source.hpp"

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <unordered_map>
#include <vector>

namespace vpnsteer::wandns {

namespace detail {

using Microseconds = std::uint64_t; // CLOCK_MONOTONIC, the way sd-event counts time

// Reading stops after this many datagrams or connections per wakeup, so that one busy
// socket cannot starve the others (epoll is level-triggered: the rest come next round).
inline constexpr std::size_t maxDatagramsPerWakeup = 64;
inline constexpr std::size_t maxAcceptsPerWakeup = 16;
inline constexpr std::size_t maxTcpReadsPerWakeup = 4;
inline constexpr std::size_t tcpReadChunk = 16 * 1024;
// Earlier attempts of a query stay open after a retry, so that a slow server's answer still
// counts; beyond this many the oldest is given up.
inline constexpr std::size_t maxUdpAttemptsAlive = 3;
// A TCP client that does not read its answers is dropped once this much is waiting for it.
inline constexpr std::size_t tcpOutputLimit = 256 * 1024;
inline constexpr int listenBacklog = 128;
// Time sources fire within this much of their deadline; sd-event's default is 250 ms.
inline constexpr Microseconds timerAccuracy = 1000;
// After accept() ran out of file descriptors, the TCP listeners rest this long: the
// pending connection keeps the socket readable and would otherwise spin the loop.
inline constexpr Microseconds acceptPause = 100 * 1000;

inline Microseconds toMicroseconds(std::chrono::milliseconds duration) {
    return static_cast<Microseconds>(duration.count()) * 1000;
}

inline std::system_error systemError(int error, const std::string& what) {
    return std::system_error(error, std::generic_category(), what);
}

// An upstream socket: non-blocking, close-on-exec, carrying the WAN mark when there is one.
// Returns an invalid UniqueFd and sets `error` on failure.
UniqueFd openUpstreamSocket(int family, int type, std::uint32_t mark, int& error);

} // namespace detail

using detail::Microseconds;

class WanDnsForwarder::Impl {
public:
    Impl(sd_event* event, ForwarderSettings settings, std::vector<SocketAddress> upstreams);
    ~Impl();

    void setUpstreams(std::vector<SocketAddress> upstreams);

    ForwarderSettings settings_;
    std::vector<SocketAddress> upstreams_;
    std::vector<SocketAddress> bound_;
    ForwarderCounters counters_;

    std::size_t queriesInFlight() const { return queries_.size(); }
    std::size_t tcpClients() const { return tcpClients_.size(); }

private:
    struct Query;

    enum class TimerKind { query, tcpClient, resumeAccepting };
    struct TimerTarget {
        TimerKind kind;
        std::uint64_t id;
    };
    using Timers = std::multimap<Microseconds, TimerTarget>;
    using TimerSlot = std::optional<Timers::iterator>;

    struct Listener {
        Impl* impl = nullptr;
        std::size_t index = 0;
        SocketAddress address;
        UniqueFd fd;
        EventSourcePtr source; // after fd: destroyed first
    };

    // Whom an answer goes to. UDP: the listener it came in on and the client's address.
    // TCP: the connection's id, looked up when the answer is ready (it may be gone).
    struct ClientRef {
        bool tcp = false;
        std::size_t listener = 0;
        SocketAddress address;
        std::uint64_t connection = 0;
    };

    struct UdpAttempt;

    // A UDP socket connected to one upstream, from a source port the kernel picked at
    // random. It lives only while busy: it closes as soon as no query waits on it, and takes
    // no new queries after settings.upstreamSocketUses of them or after
    // settings.upstreamSocketLifetime (see openUdpAttempt for why).
    struct UpstreamSocket {
        Impl* impl = nullptr;
        SocketAddress server;
        std::size_t serverIndex = 0;
        std::size_t slot = 0;
        std::uint64_t generation = 0; // of the upstream list serverIndex refers to
        Microseconds opened = 0;
        std::size_t uses = 0;
        bool retired = false;     // takes no new queries
        bool dispatching = false; // inside its own callback: close later, not now
        std::unordered_map<std::uint16_t, UdpAttempt*> pending; // by query ID
        UniqueFd fd;
        EventSourcePtr source;
    };

    // One query sent over UDP to one server, waiting on an UpstreamSocket under its own ID.
    struct UdpAttempt {
        Query* query = nullptr;
        UpstreamSocket* socket = nullptr;
        std::uint16_t id = 0;

        UdpAttempt(Query* forQuery, UpstreamSocket* on, std::uint16_t withId)
            : query(forQuery)
            , socket(on)
            , id(withId) {
            socket->pending.emplace(id, this);
        }
        ~UdpAttempt() {
            socket->pending.erase(id);
            socket->impl->closeSocketIfIdle(*socket);
        }
        UdpAttempt(const UdpAttempt&) = delete;
        UdpAttempt& operator=(const UdpAttempt&) = delete;
    };

    struct TcpAttempt {
        Impl* impl = nullptr;
        Query* query = nullptr;
        std::uint16_t id = 0;
        bool connected = false;
        std::vector<std::uint8_t> output; // length prefix and query
        std::size_t written = 0;
        std::vector<std::uint8_t> input;
        UniqueFd fd;
        EventSourcePtr source;

        TcpAttempt(Impl* owner, Query* forQuery)
            : impl(owner)
            , query(forQuery) {
            ++impl->upstreamTcp_;
        }
        ~TcpAttempt() { --impl->upstreamTcp_; }
        TcpAttempt(const TcpAttempt&) = delete;
        TcpAttempt& operator=(const TcpAttempt&) = delete;
    };

    struct Query {
        std::uint64_t id = 0;
        ClientRef client;
        std::vector<std::uint8_t> message; // the client's query; its ID is rewritten per attempt
        dns::Question question;
        std::uint16_t clientId = 0;
        std::uint16_t udpLimit = dns::classicUdpPayload;
        Microseconds deadline = 0;
        std::size_t firstServer = 0;
        std::size_t attemptsSent = 0;
        std::size_t hardFailures = 0;
        std::vector<std::unique_ptr<UdpAttempt>> attempts; // oldest first
        std::unique_ptr<TcpAttempt> tcp;
        std::vector<std::uint8_t> truncatedAnswer; // relayed if the TCP retry fails
        TimerSlot timer;
    };

    struct TcpClient {
        Impl* impl = nullptr;
        std::uint64_t id = 0;
        std::vector<std::uint8_t> input;
        std::vector<std::uint8_t> output;
        std::size_t written = 0;
        std::size_t pending = 0;  // its queries in flight
        bool paused = false;      // reading stopped until pending drops
        bool inputClosed = false; // the client shut down its side
        bool failed = false;      // to be closed
        bool dispatching = false; // inside its own callback: close later, not now
        TimerSlot timer;
        UniqueFd fd;
        EventSourcePtr source;
    };

    void openListeners();
    void checkMark() const;
    Microseconds now() const;

    // Timers: one sd-event time source armed for the earliest deadline of all.
    void schedule(TimerSlot& slot, Microseconds when, TimerTarget target);
    void cancel(TimerSlot& slot);
    void arm();
    static int onTimer(sd_event_source* source, std::uint64_t usec, void* userdata) noexcept;
    void dispatchTimers(Microseconds now);

    // Client side.
    static int onUdpListener(sd_event_source*, int fd, std::uint32_t, void* userdata) noexcept;
    static int onTcpListener(sd_event_source*, int fd, std::uint32_t, void* userdata) noexcept;
    static int onTcpClient(sd_event_source*, int fd, std::uint32_t revents,
                           void* userdata) noexcept;
    void receiveDatagrams(Listener& listener);
    void acceptConnections(Listener& listener);
    void serveTcpClient(TcpClient& client, std::uint32_t revents);
    void readTcpClient(TcpClient& client);
    void processTcpInput(TcpClient& client);
    void flushTcpClient(TcpClient& client);
    void updateTcpClientEvents(TcpClient& client);
    void closeTcpClientIfDone(TcpClient& client);
    void closeTcpClient(std::uint64_t id);
    void reply(const ClientRef& client, dns::Bytes message);
    void handleQuery(dns::Bytes message, const ClientRef& client);

    // Upstream side.
    void sendNextAttempt(Query& query);
    std::unique_ptr<UdpAttempt> openUdpAttempt(Query& query, std::size_t serverIndex, int& error);
    UpstreamSocket* upstreamSocket(std::size_t serverIndex, int& error);
    void retire(UpstreamSocket& socket);
    void closeSocketIfIdle(UpstreamSocket& socket);
    static int onUpstreamSocket(sd_event_source*, int fd, std::uint32_t, void* userdata) noexcept;
    void receiveAnswers(UpstreamSocket& socket);
    void failSocket(UpstreamSocket& socket);
    void startTcpRetry(Query& query, const SocketAddress& server);
    static int onTcpAttempt(sd_event_source*, int fd, std::uint32_t revents,
                            void* userdata) noexcept;
    void serveTcpAttempt(TcpAttempt& attempt, std::uint32_t revents);
    void timeOut(Query& query);

    // Ending a query. Each destroys `query`.
    void deliver(Query& query, std::span<std::uint8_t> answer);
    void failWithServfail(Query& query);
    void finish(Query& query);

    EventPtr event_;
    std::vector<std::unique_ptr<Listener>> udpListeners_;
    std::vector<std::unique_ptr<Listener>> tcpListeners_;
    std::uint64_t generation_ = 0;
    std::size_t preferred_ = 0; // index of the upstream that answered last
    std::unordered_map<std::uint64_t, std::unique_ptr<Query>> queries_;
    std::unordered_map<std::uint64_t, std::unique_ptr<TcpClient>> tcpClients_;
    // Every open upstream socket, and per upstream server the slots of those taking queries.
    std::unordered_map<UpstreamSocket*, std::unique_ptr<UpstreamSocket>> sockets_;
    std::vector<std::vector<UpstreamSocket*>> pools_;
    std::size_t upstreamTcp_ = 0;
    std::uint64_t nextId_ = 1;
    bool acceptPaused_ = false;
    TimerSlot acceptTimer_;
    Timers timers_;
    EventSourcePtr timerSource_;
    Microseconds armedFor_ = 0; // 0: the time source is off
    RandomSource random_;
    std::vector<std::uint8_t> receiveBuffer_ = std::vector<std::uint8_t>(dns::maxMessageSize + 1);
};

} // namespace vpnsteer::wandns
