// The forwarder's life and its queries' start and end (forwarder_impl.hpp has the map).
#include "service/wandns/forwarder.hpp"

#include "service/wandns/forwarder_impl.hpp"

#include <algorithm>
#include <cerrno>
#include <netinet/in.h>
#include <stdexcept>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <utility>

namespace vpnsteer::wandns {

using namespace detail;

// --- construction --------------------------------------------------------------------------

WanDnsForwarder::Impl::Impl(sd_event* event, ForwarderSettings settings,
                            std::vector<SocketAddress> upstreams)
    : settings_(std::move(settings))
    , upstreams_(std::move(upstreams))
    , event_(sd_event_ref(event)) {
    if (event == nullptr) {
        throw std::invalid_argument("WAN DNS forwarder: no sd-event loop given");
    }
    checkMark();
    sd_event_source* timer = nullptr;
    const int r =
        sd_event_add_time(event, &timer, CLOCK_MONOTONIC, 0, timerAccuracy, &Impl::onTimer, this);
    if (r < 0) {
        throw systemError(-r, "adding the WAN DNS forwarder's timer to the event loop");
    }
    timerSource_.reset(timer);
    sd_event_source_set_enabled(timer, SD_EVENT_OFF);
    settings_.upstreamSocketsPerServer =
        std::max<std::size_t>(settings_.upstreamSocketsPerServer, 1);
    settings_.upstreamSocketUses = std::max<std::size_t>(settings_.upstreamSocketUses, 1);
    pools_.assign(upstreams_.size(),
                  std::vector<UpstreamSocket*>(settings_.upstreamSocketsPerServer, nullptr));
    openListeners();
}

WanDnsForwarder::Impl::~Impl() {
    // Everything holding an event source goes before the loop reference does; queries
    // before the sockets their attempts wait on.
    queries_.clear();
    tcpClients_.clear();
    pools_.clear();
    sockets_.clear();
    udpListeners_.clear();
    tcpListeners_.clear();
    timerSource_.reset();
}

void WanDnsForwarder::Impl::checkMark() const {
    if (settings_.mark == 0) {
        return;
    }
    int error = 0;
    if (!openUpstreamSocket(AF_INET, SOCK_DGRAM, settings_.mark, error)) {
        throw systemError(error, "setting SO_MARK " + std::to_string(settings_.mark) +
                                     " on the WAN DNS forwarder's upstream sockets" +
                                     (error == EPERM ? " (needs CAP_NET_ADMIN)" : ""));
    }
}

void WanDnsForwarder::Impl::openListeners() {
    for (const auto& address : settings_.listen) {
        const std::string where = address.toString();
        auto udp = std::make_unique<Listener>();
        udp->impl = this;
        udp->index = udpListeners_.size();
        udp->fd.reset(::socket(address.family(), SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
        if (!udp->fd) {
            throw systemError(errno, "opening a UDP socket for " + where);
        }
        const int on = 1;
        if (address.family() == AF_INET6) {
            // [::1]:54 must not also claim 127.0.0.1:54, which is listed separately.
            ::setsockopt(udp->fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);
        }
        if (::bind(udp->fd.get(), address.get(), address.length()) != 0) {
            throw systemError(errno, "binding the WAN DNS forwarder to UDP " + where);
        }
        sockaddr_storage bound{};
        socklen_t boundLength = sizeof bound;
        ::getsockname(udp->fd.get(), reinterpret_cast<sockaddr*>(&bound), &boundLength);
        udp->address =
            SocketAddress::fromSockaddr(reinterpret_cast<sockaddr*>(&bound), boundLength);

        // TCP on the port UDP got, so that port 0 yields one port for both.
        auto tcp = std::make_unique<Listener>();
        tcp->impl = this;
        tcp->address = udp->address;
        tcp->fd.reset(::socket(address.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
        if (!tcp->fd) {
            throw systemError(errno, "opening a TCP socket for " + where);
        }
        ::setsockopt(tcp->fd.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
        if (address.family() == AF_INET6) {
            ::setsockopt(tcp->fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);
        }
        if (::bind(tcp->fd.get(), tcp->address.get(), tcp->address.length()) != 0) {
            throw systemError(errno,
                              "binding the WAN DNS forwarder to TCP " + tcp->address.toString());
        }
        if (::listen(tcp->fd.get(), listenBacklog) != 0) {
            throw systemError(errno, "listening on TCP " + tcp->address.toString());
        }

        sd_event_source* source = nullptr;
        int r = sd_event_add_io(event_.get(), &source, udp->fd.get(), EPOLLIN, &Impl::onUdpListener,
                                udp.get());
        if (r < 0) {
            throw systemError(-r, "watching UDP " + where);
        }
        udp->source.reset(source);
        r = sd_event_add_io(event_.get(), &source, tcp->fd.get(), EPOLLIN, &Impl::onTcpListener,
                            tcp.get());
        if (r < 0) {
            throw systemError(-r, "watching TCP " + where);
        }
        tcp->source.reset(source);
        bound_.push_back(udp->address);
        udpListeners_.push_back(std::move(udp));
        tcpListeners_.push_back(std::move(tcp));
    }
}

void WanDnsForwarder::Impl::setUpstreams(std::vector<SocketAddress> upstreams) {
    // Sockets to the old servers finish what they carry but take nothing new.
    for (auto& pool : pools_) {
        for (UpstreamSocket* socket : pool) {
            if (socket != nullptr) {
                retire(*socket);
            }
        }
    }
    upstreams_ = std::move(upstreams);
    pools_.assign(upstreams_.size(),
                  std::vector<UpstreamSocket*>(settings_.upstreamSocketsPerServer, nullptr));
    ++generation_;
    preferred_ = 0;
}

Microseconds WanDnsForwarder::Impl::now() const {
    std::uint64_t usec = 0;
    sd_event_now(event_.get(), CLOCK_MONOTONIC, &usec);
    return usec;
}

// --- timers --------------------------------------------------------------------------------

void WanDnsForwarder::Impl::schedule(TimerSlot& slot, Microseconds when, TimerTarget target) {
    if (slot) {
        timers_.erase(*slot);
    }
    slot = timers_.emplace(when, target);
    arm();
}

void WanDnsForwarder::Impl::cancel(TimerSlot& slot) {
    if (slot) {
        timers_.erase(*slot);
        slot.reset();
        arm();
    }
}

void WanDnsForwarder::Impl::arm() {
    if (timers_.empty()) {
        if (armedFor_ != 0) {
            sd_event_source_set_enabled(timerSource_.get(), SD_EVENT_OFF);
            armedFor_ = 0;
        }
        return;
    }
    const Microseconds earliest = std::max<Microseconds>(timers_.begin()->first, 1);
    if (earliest != armedFor_) {
        sd_event_source_set_time(timerSource_.get(), earliest);
        if (armedFor_ == 0) {
            sd_event_source_set_enabled(timerSource_.get(), SD_EVENT_ONESHOT);
        }
        armedFor_ = earliest;
    }
}

int WanDnsForwarder::Impl::onTimer(sd_event_source*, std::uint64_t usec, void* userdata) noexcept {
    auto* self = static_cast<Impl*>(userdata);
    self->armedFor_ = 0; // a oneshot source is off once it fired
    try {
        // `usec` is when the source was due; what else is due is judged by the loop's clock.
        self->dispatchTimers(std::max<Microseconds>(usec, self->now()));
    } catch (...) {
        // Only allocation can fail here; the timers not yet run stay queued.
    }
    self->arm();
    return 0;
}

void WanDnsForwarder::Impl::dispatchTimers(Microseconds now) {
    while (!timers_.empty() && timers_.begin()->first <= now) {
        const TimerTarget target = timers_.begin()->second;
        timers_.erase(timers_.begin());
        switch (target.kind) {
        case TimerKind::query:
            if (auto found = queries_.find(target.id); found != queries_.end()) {
                found->second->timer.reset();
                timeOut(*found->second);
            }
            break;
        case TimerKind::tcpClient:
            if (auto found = tcpClients_.find(target.id); found != tcpClients_.end()) {
                TcpClient& client = *found->second;
                client.timer.reset();
                if (client.pending > 0) {
                    // Its queries end on their own deadlines; idle is counted from then.
                    schedule(client.timer, now + toMicroseconds(settings_.tcpIdleTimeout),
                             {TimerKind::tcpClient, client.id});
                } else {
                    closeTcpClient(client.id);
                }
            }
            break;
        case TimerKind::resumeAccepting:
            acceptTimer_.reset();
            acceptPaused_ = false;
            for (auto& listener : tcpListeners_) {
                sd_event_source_set_enabled(listener->source.get(), SD_EVENT_ON);
            }
            break;
        }
    }
}

// --- a query begins ----------------------------------------------------------------------

void WanDnsForwarder::Impl::handleQuery(dns::Bytes message, const ClientRef& client) {
    const auto inspection = dns::inspectQuery(message);
    switch (inspection.verdict) {
    case dns::QueryVerdict::drop:
        ++counters_.malformedDropped;
        return;
    case dns::QueryVerdict::formatError:
        ++counters_.formatErrors;
        reply(client, dns::errorResponse(message, dns::Rcode::formatError));
        return;
    case dns::QueryVerdict::notImplemented:
        ++counters_.formatErrors;
        reply(client, dns::errorResponse(message, dns::Rcode::notImplemented));
        return;
    case dns::QueryVerdict::forward:
        break;
    }
    ++counters_.queries;
    if (upstreams_.empty()) {
        ++counters_.servfails;
        reply(client, dns::errorResponse(message, dns::Rcode::serverFailure));
        return;
    }
    if (queries_.size() >= settings_.maxQueriesInFlight) {
        ++counters_.overloaded;
        // A UDP client asks again on its own; a TCP client would wait for its answer.
        if (client.tcp) {
            reply(client, dns::errorResponse(message, dns::Rcode::serverFailure));
        }
        return;
    }

    auto owned = std::make_unique<Query>();
    Query& query = *owned;
    query.id = nextId_++;
    query.client = client;
    query.message.assign(message.begin(), message.end());
    query.question = inspection.question;
    query.clientId = inspection.header.id;
    query.udpLimit = inspection.udpLimit;
    query.deadline = now() + toMicroseconds(settings_.queryTimeout);
    query.firstServer = preferred_ < upstreams_.size() ? preferred_ : 0;
    queries_.emplace(query.id, std::move(owned));
    if (client.tcp) {
        if (auto found = tcpClients_.find(client.connection); found != tcpClients_.end()) {
            ++found->second->pending;
        }
    }
    sendNextAttempt(query);
}

// --- ending a query ------------------------------------------------------------------------

void WanDnsForwarder::Impl::deliver(Query& query, std::span<std::uint8_t> answer) {
    // The answer may live inside the query (its TCP buffer): reply before finishing it.
    dns::setId(answer, query.clientId);
    ++counters_.answers;
    if (!query.client.tcp && answer.size() > query.udpLimit) {
        reply(query.client, dns::truncatedResponse(answer));
    } else {
        reply(query.client, answer);
    }
    finish(query);
}

void WanDnsForwarder::Impl::failWithServfail(Query& query) {
    ++counters_.servfails;
    dns::setId(query.message, query.clientId);
    reply(query.client, dns::errorResponse(query.message, dns::Rcode::serverFailure));
    finish(query);
}

void WanDnsForwarder::Impl::finish(Query& query) {
    cancel(query.timer);
    const ClientRef client = query.client;
    queries_.erase(query.id);
    if (client.tcp) {
        if (auto found = tcpClients_.find(client.connection); found != tcpClients_.end()) {
            TcpClient& connection = *found->second;
            if (connection.pending > 0) {
                --connection.pending;
            }
            closeTcpClientIfDone(connection);
        }
    }
}

// --- the public face -------------------------------------------------------------------------

WanDnsForwarder::WanDnsForwarder(sd_event* event, ForwarderSettings settings,
                                 std::vector<SocketAddress> upstreams)
    : impl_(std::make_unique<Impl>(event, std::move(settings), std::move(upstreams))) {}

WanDnsForwarder::~WanDnsForwarder() = default;
WanDnsForwarder::WanDnsForwarder(WanDnsForwarder&&) noexcept = default;
WanDnsForwarder& WanDnsForwarder::operator=(WanDnsForwarder&&) noexcept = default;

void WanDnsForwarder::setUpstreams(std::vector<SocketAddress> upstreams) {
    impl_->setUpstreams(std::move(upstreams));
}

const std::vector<SocketAddress>& WanDnsForwarder::upstreams() const {
    return impl_->upstreams_;
}

const std::vector<SocketAddress>& WanDnsForwarder::listenAddresses() const {
    return impl_->bound_;
}

ForwarderCounters WanDnsForwarder::counters() const {
    return impl_->counters_;
}
std::size_t WanDnsForwarder::queriesInFlight() const {
    return impl_->queriesInFlight();
}
std::size_t WanDnsForwarder::tcpClients() const {
    return impl_->tcpClients();
}

} // namespace vpnsteer::wandns
