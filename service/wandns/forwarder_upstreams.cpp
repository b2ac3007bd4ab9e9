// The forwarder's upstream side: the UDP socket pool, retries, and the TCP retry.
#include "service/wandns/forwarder_impl.hpp"

#include <algorithm>
#include <cerrno>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <utility>

namespace vpnsteer::wandns {

using namespace detail;

UniqueFd detail::openUpstreamSocket(int family, int type, std::uint32_t mark, int& error) {

    UniqueFd fd(::socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd) {
        error = errno;
        return fd;
    }
    // Never send unmarked: without the mark the query would follow the VPN's rules, which
    // is exactly what this forwarder exists to avoid.
    if (mark != 0 && ::setsockopt(fd.get(), SOL_SOCKET, SO_MARK, &mark, sizeof mark) != 0) {
        error = errno;
        return UniqueFd();
    }
    return fd;
}

// --- upstreams -----------------------------------------------------------------------------

void WanDnsForwarder::Impl::sendNextAttempt(Query& query) {
    const Microseconds current = now();
    while (true) {
        if (upstreams_.empty() || query.hardFailures >= upstreams_.size() ||
            current >= query.deadline) {
            if (query.attempts.empty() && !query.tcp) {
                failWithServfail(query);
                return;
            }
            break; // the attempts still open may yet be answered
        }
        const std::size_t index = (query.firstServer + query.attemptsSent) % upstreams_.size();
        ++query.attemptsSent;
        int error = 0;
        if (auto attempt = openUdpAttempt(query, index, error)) {
            query.attempts.push_back(std::move(attempt));
            if (query.attempts.size() > maxUdpAttemptsAlive) {
                query.attempts.erase(query.attempts.begin());
            }
            break;
        }
        // No route, no socket, or no mark: this server cannot be asked now; try the next.
        ++counters_.upstreamErrors;
        ++query.hardFailures;
    }
    schedule(query.timer,
             std::min(current + toMicroseconds(settings_.attemptTimeout), query.deadline),
             {TimerKind::query, query.id});
}

std::unique_ptr<WanDnsForwarder::Impl::UdpAttempt>
WanDnsForwarder::Impl::openUdpAttempt(Query& query, std::size_t serverIndex, int& error) {
    UpstreamSocket* socket = upstreamSocket(serverIndex, error);
    if (socket == nullptr) {
        return nullptr;
    }
    // A random ID not already waiting on this socket (RFC 5452 §9.2).
    std::uint16_t id = random_.next16();
    while (socket->pending.count(id) != 0) {
        id = random_.next16();
    }
    ++socket->uses;
    auto attempt = std::make_unique<UdpAttempt>(&query, socket, id);
    dns::setId(query.message, id);
    if (::send(socket->fd.get(), query.message.data(), query.message.size(), 0) < 0) {
        error = errno;
        // Most likely an ICMP error of an earlier datagram, reported here: nothing more
        // goes out on this socket.
        retire(*socket);
        return nullptr; // the attempt detaches and closes the socket if it was the last
    }
    return attempt;
}

// Why a pool of sockets that live only while busy, not one socket per query: opening,
// connecting, watching and closing a socket per query was a quarter of the forwarder's CPU
// time under load (perf, bench/wandns). Port secrecy (RFC 5452 §9.2) stays close to that of a
// socket per query: every socket gets a fresh random port from the kernel (Linux picks UDP
// ephemeral ports at random, RFC 6056 §3.3.1); a socket is only shared by queries in
// flight at the same time, so with light load every query still gets a port of its own;
// and no port stays open longer than upstreamSocketLifetime or for more than
// upstreamSocketUses queries. dnsmasq does much the same ("random sockets" shared while in
// use). Each socket is connected, so the kernel drops datagrams from any other source and
// reports the server's ICMP errors to it.
WanDnsForwarder::Impl::UpstreamSocket*
WanDnsForwarder::Impl::upstreamSocket(std::size_t serverIndex, int& error) {
    auto& pool = pools_.at(serverIndex);
    const std::size_t slot = random_.next16() % pool.size();
    const Microseconds current = now();
    if (UpstreamSocket* socket = pool[slot]) {
        if (socket->uses < settings_.upstreamSocketUses &&
            current - socket->opened < toMicroseconds(settings_.upstreamSocketLifetime)) {
            return socket;
        }
        retire(*socket);
    }
    auto socket = std::make_unique<UpstreamSocket>();
    socket->impl = this;
    socket->server = upstreams_[serverIndex];
    socket->serverIndex = serverIndex;
    socket->slot = slot;
    socket->generation = generation_;
    socket->opened = current;
    socket->fd = openUpstreamSocket(socket->server.family(), SOCK_DGRAM, settings_.mark, error);
    if (!socket->fd) {
        return nullptr;
    }
    if (::connect(socket->fd.get(), socket->server.get(), socket->server.length()) != 0) {
        error = errno;
        return nullptr;
    }
    sd_event_source* source = nullptr;
    if (const int r = sd_event_add_io(event_.get(), &source, socket->fd.get(), EPOLLIN,
                                      &Impl::onUpstreamSocket, socket.get());
        r < 0) {
        error = -r;
        return nullptr;
    }
    socket->source.reset(source);
    UpstreamSocket* added = socket.get();
    sockets_.emplace(added, std::move(socket));
    pool[slot] = added;
    return added;
}

void WanDnsForwarder::Impl::retire(UpstreamSocket& socket) {
    if (!socket.retired) {
        socket.retired = true;
        if (socket.generation == generation_ && socket.serverIndex < pools_.size() &&
            pools_[socket.serverIndex][socket.slot] == &socket) {
            pools_[socket.serverIndex][socket.slot] = nullptr;
        }
    }
    closeSocketIfIdle(socket);
}

void WanDnsForwarder::Impl::closeSocketIfIdle(UpstreamSocket& socket) {
    if (!socket.pending.empty() || socket.dispatching) {
        return;
    }
    if (!socket.retired) {
        socket.retired = true; // out of its slot first
        if (socket.generation == generation_ && socket.serverIndex < pools_.size() &&
            pools_[socket.serverIndex][socket.slot] == &socket) {
            pools_[socket.serverIndex][socket.slot] = nullptr;
        }
    }
    sockets_.erase(&socket);
}

int WanDnsForwarder::Impl::onUpstreamSocket(sd_event_source*, int, std::uint32_t,
                                            void* userdata) noexcept {
    auto* socket = static_cast<UpstreamSocket*>(userdata);
    Impl* self = socket->impl;
    socket->dispatching = true;
    try {
        self->receiveAnswers(*socket);
    } catch (...) {
        // Allocation failed while relaying: the queries on this socket end by their timers.
    }
    socket->dispatching = false;
    self->closeSocketIfIdle(*socket);
    return 0;
}

void WanDnsForwarder::Impl::receiveAnswers(UpstreamSocket& socket) {
    for (std::size_t count = 0; count < maxDatagramsPerWakeup; ++count) {
        sockaddr_storage from{};
        socklen_t fromLength = sizeof from;
        const ssize_t received =
            ::recvfrom(socket.fd.get(), receiveBuffer_.data(), receiveBuffer_.size(), MSG_TRUNC,
                       reinterpret_cast<sockaddr*>(&from), &fromLength);
        if (received < 0) {
            if (errno == EINTR) {
                continue;
            }
            if (errno != EAGAIN && errno != EWOULDBLOCK) {
                failSocket(socket);
            }
            return;
        }
        if (static_cast<std::size_t>(received) > dns::maxMessageSize) {
            ++counters_.malformedDropped;
            continue;
        }
        if (SocketAddress::fromSockaddr(reinterpret_cast<const sockaddr*>(&from), fromLength) !=
            socket.server) {
            ++counters_.mismatchedAnswers;
            continue;
        }
        const std::span<std::uint8_t> answer(receiveBuffer_.data(),
                                             static_cast<std::size_t>(received));
        const auto header = dns::readHeader(answer);
        if (!header || !header->isResponse()) {
            ++counters_.malformedDropped;
            continue;
        }
        const auto waiting = socket.pending.find(header->id);
        if (waiting == socket.pending.end()) {
            ++counters_.mismatchedAnswers; // a late answer, or a guess
            continue;
        }
        UdpAttempt& attempt = *waiting->second;
        Query& query = *attempt.query;
        switch (dns::inspectAnswer(answer, attempt.id, query.message, query.question)) {
        case dns::AnswerVerdict::malformed:
            ++counters_.malformedDropped;
            continue;
        case dns::AnswerVerdict::wrongId:
        case dns::AnswerVerdict::wrongQuestion:
            ++counters_.mismatchedAnswers;
            continue;
        case dns::AnswerVerdict::accept:
            break;
        }
        if (socket.generation == generation_) {
            preferred_ = socket.serverIndex;
        }
        if (header->isTruncated()) {
            query.truncatedAnswer.assign(answer.begin(), answer.end());
            startTcpRetry(query, socket.server);
        } else {
            deliver(query, answer);
        }
    }
}

// The kernel reports an ICMP error (port or host unreachable) on the connected socket: this
// server does not answer now. Its queries move on without waiting for their timeouts.
void WanDnsForwarder::Impl::failSocket(UpstreamSocket& socket) {
    ++counters_.upstreamErrors;
    retire(socket);
    std::vector<std::uint64_t> affected;
    for (const auto& [id, attempt] : socket.pending) {
        affected.push_back(attempt->query->id);
    }
    for (const std::uint64_t queryId : affected) {
        const auto found = queries_.find(queryId);
        if (found == queries_.end()) {
            continue;
        }
        Query& query = *found->second;
        std::erase_if(query.attempts,
                      [&socket](const auto& attempt) { return attempt->socket == &socket; });
        ++query.hardFailures;
        if (query.attempts.empty() && !query.tcp) {
            sendNextAttempt(query);
        }
    }
}

void WanDnsForwarder::Impl::startTcpRetry(Query& query, const SocketAddress& server) {
    ++counters_.truncatedRetries;
    query.attempts.clear();
    // Without a TCP connection to spare, the client gets the truncated answer and can ask
    // over TCP itself.
    if (upstreamTcp_ >= settings_.maxUpstreamTcpConnections) {
        ++counters_.overloaded;
        deliver(query, query.truncatedAnswer);
        return;
    }
    auto attempt = std::make_unique<TcpAttempt>(this, &query);
    int error = 0;
    attempt->fd = openUpstreamSocket(server.family(), SOCK_STREAM, settings_.mark, error);
    if (!attempt->fd || (::connect(attempt->fd.get(), server.get(), server.length()) != 0 &&
                         errno != EINPROGRESS)) {
        ++counters_.upstreamErrors;
        deliver(query, query.truncatedAnswer);
        return;
    }
    attempt->id = random_.next16();
    dns::setId(query.message, attempt->id);
    attempt->output.reserve(query.message.size() + 2);
    attempt->output.push_back(static_cast<std::uint8_t>(query.message.size() >> 8));
    attempt->output.push_back(static_cast<std::uint8_t>(query.message.size()));
    attempt->output.insert(attempt->output.end(), query.message.begin(), query.message.end());
    sd_event_source* source = nullptr;
    if (sd_event_add_io(event_.get(), &source, attempt->fd.get(), EPOLLOUT, &Impl::onTcpAttempt,
                        attempt.get()) < 0) {
        deliver(query, query.truncatedAnswer);
        return;
    }
    attempt->source.reset(source);
    query.tcp = std::move(attempt);
    // A TCP exchange takes at least a round trip more: it gets a full attempt's time even
    // when the truncated answer came late.
    const Microseconds current = now();
    schedule(query.timer,
             std::max(query.deadline, current + toMicroseconds(settings_.attemptTimeout)),
             {TimerKind::query, query.id});
}

int WanDnsForwarder::Impl::onTcpAttempt(sd_event_source*, int, std::uint32_t revents,
                                        void* userdata) noexcept {
    auto* attempt = static_cast<TcpAttempt*>(userdata);
    Impl* self = attempt->impl;
    const std::uint64_t queryId = attempt->query->id;
    try {
        self->serveTcpAttempt(*attempt, revents);
    } catch (...) {
        if (auto found = self->queries_.find(queryId); found != self->queries_.end()) {
            try {
                self->failWithServfail(*found->second);
            } catch (...) {
                self->queries_.erase(found);
            }
        }
    }
    return 0;
}

void WanDnsForwarder::Impl::serveTcpAttempt(TcpAttempt& attempt, std::uint32_t revents) {
    Query& query = *attempt.query;
    const auto giveUp = [this, &query] {
        ++counters_.upstreamErrors;
        deliver(query, query.truncatedAnswer);
    };
    if (!attempt.connected) {
        int error = 0;
        socklen_t length = sizeof error;
        if (::getsockopt(attempt.fd.get(), SOL_SOCKET, SO_ERROR, &error, &length) != 0 ||
            error != 0) {
            giveUp();
            return;
        }
        attempt.connected = true;
    }
    while (attempt.written < attempt.output.size()) {
        const ssize_t sent = ::send(attempt.fd.get(), attempt.output.data() + attempt.written,
                                    attempt.output.size() - attempt.written, MSG_NOSIGNAL);
        if (sent < 0) {
            const int error = errno;
            if (error == EINTR) {
                continue;
            }
            if (error == EAGAIN || error == EWOULDBLOCK) {
                return;
            }
            giveUp();
            return;
        }
        attempt.written += static_cast<std::size_t>(sent);
        if (attempt.written == attempt.output.size()) {
            sd_event_source_set_io_events(attempt.source.get(), EPOLLIN);
            return; // the answer comes later
        }
    }
    if ((revents & (EPOLLIN | EPOLLHUP | EPOLLERR)) == 0) {
        return;
    }
    // Read no further than the one answer: 2 bytes of length, then the message.
    for (std::size_t reads = 0;; ++reads) {
        std::size_t wanted = 2;
        if (attempt.input.size() >= 2) {
            wanted = 2 + static_cast<std::size_t>(attempt.input[0] << 8 | attempt.input[1]);
            if (wanted == 2) {
                ++counters_.malformedDropped;
                giveUp();
                return;
            }
        }
        if (attempt.input.size() == wanted) {
            const std::span<std::uint8_t> answer(attempt.input.data() + 2, wanted - 2);
            const auto verdict =
                dns::inspectAnswer(answer, attempt.id, query.message, query.question);
            if (verdict != dns::AnswerVerdict::accept) {
                ++(verdict == dns::AnswerVerdict::malformed ? counters_.malformedDropped
                                                            : counters_.mismatchedAnswers);
                giveUp();
                return;
            }
            deliver(query, answer);
            return;
        }
        if (reads == maxTcpReadsPerWakeup) {
            return; // level-triggered: the rest comes next round
        }
        const std::size_t had = attempt.input.size();
        attempt.input.resize(wanted);
        const ssize_t received =
            ::recv(attempt.fd.get(), attempt.input.data() + had, wanted - had, 0);
        const int error = errno;
        attempt.input.resize(had + static_cast<std::size_t>(std::max<ssize_t>(received, 0)));
        if (received == 0) {
            giveUp(); // closed before the whole answer came
            return;
        }
        if (received < 0) {
            if (error == EAGAIN || error == EWOULDBLOCK) {
                return;
            }
            if (error != EINTR) {
                giveUp();
                return;
            }
        }
    }
}

void WanDnsForwarder::Impl::timeOut(Query& query) {
    ++counters_.timeouts;
    if (query.tcp) {
        deliver(query, query.truncatedAnswer);
        return;
    }
    if (now() >= query.deadline) {
        failWithServfail(query);
        return;
    }
    sendNextAttempt(query);
}

} // namespace vpnsteer::wandns
