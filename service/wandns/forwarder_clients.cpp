// The forwarder's client side: UDP listeners, TCP listeners and TCP connections.
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

// --- clients -------------------------------------------------------------------------------

int WanDnsForwarder::Impl::onUdpListener(sd_event_source*, int, std::uint32_t,
                                         void* userdata) noexcept {
    auto* listener = static_cast<Listener*>(userdata);
    try {
        listener->impl->receiveDatagrams(*listener);
    } catch (...) {
        // Allocation failed: this datagram is lost, the client asks again.
    }
    return 0;
}

void WanDnsForwarder::Impl::receiveDatagrams(Listener& listener) {
    for (std::size_t count = 0; count < maxDatagramsPerWakeup; ++count) {
        sockaddr_storage from{};
        socklen_t fromLength = sizeof from;
        const ssize_t received =
            ::recvfrom(listener.fd.get(), receiveBuffer_.data(), receiveBuffer_.size(), MSG_TRUNC,
                       reinterpret_cast<sockaddr*>(&from), &fromLength);
        if (received < 0) {
            if (errno == EINTR) {
                continue;
            }
            return; // EAGAIN, or an error queued for an earlier reply: nothing to read
        }
        ClientRef client;
        client.listener = listener.index;
        client.address =
            SocketAddress::fromSockaddr(reinterpret_cast<const sockaddr*>(&from), fromLength);
        if (!client.address.isLoopback()) {
            // Dropped without an answer: answering a forged source would make this a reflector.
            ++counters_.refused;
            continue;
        }
        if (static_cast<std::size_t>(received) > dns::maxMessageSize) {
            ++counters_.malformedDropped;
            continue;
        }
        handleQuery(dns::Bytes(receiveBuffer_.data(), static_cast<std::size_t>(received)), client);
    }
}

void WanDnsForwarder::Impl::reply(const ClientRef& client, dns::Bytes message) {
    if (!client.tcp) {
        if (client.listener < udpListeners_.size()) {
            // A reply that does not fit in the socket buffer now is lost like any datagram.
            ::sendto(udpListeners_[client.listener]->fd.get(), message.data(), message.size(),
                     MSG_DONTWAIT, client.address.get(), client.address.length());
        }
        return;
    }
    const auto found = tcpClients_.find(client.connection);
    if (found == tcpClients_.end()) {
        return; // the client hung up before its answer came
    }
    TcpClient& connection = *found->second;
    if (connection.failed) {
        return;
    }
    if (connection.output.size() - connection.written + message.size() + 2 > tcpOutputLimit) {
        connection.failed = true;
    } else {
        connection.output.push_back(static_cast<std::uint8_t>(message.size() >> 8));
        connection.output.push_back(static_cast<std::uint8_t>(message.size()));
        connection.output.insert(connection.output.end(), message.begin(), message.end());
        flushTcpClient(connection);
    }
    closeTcpClientIfDone(connection);
}

int WanDnsForwarder::Impl::onTcpListener(sd_event_source*, int, std::uint32_t,
                                         void* userdata) noexcept {
    auto* listener = static_cast<Listener*>(userdata);
    try {
        listener->impl->acceptConnections(*listener);
    } catch (...) {
        // Allocation failed: the connection was closed with its UniqueFd.
    }
    return 0;
}

void WanDnsForwarder::Impl::acceptConnections(Listener& listener) {
    for (std::size_t count = 0; count < maxAcceptsPerWakeup; ++count) {
        sockaddr_storage from{};
        socklen_t fromLength = sizeof from;
        UniqueFd fd(::accept4(listener.fd.get(), reinterpret_cast<sockaddr*>(&from), &fromLength,
                              SOCK_NONBLOCK | SOCK_CLOEXEC));
        if (!fd) {
            if (errno == EINTR || errno == ECONNABORTED) {
                continue;
            }
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                ++counters_.overloaded;
                if (!acceptPaused_) {
                    acceptPaused_ = true;
                    for (auto& each : tcpListeners_) {
                        sd_event_source_set_enabled(each->source.get(), SD_EVENT_OFF);
                    }
                    schedule(acceptTimer_, now() + acceptPause, {TimerKind::resumeAccepting, 0});
                }
            }
            return;
        }
        const auto peer =
            SocketAddress::fromSockaddr(reinterpret_cast<const sockaddr*>(&from), fromLength);
        if (!peer.isLoopback()) {
            ++counters_.refused;
            continue;
        }
        if (tcpClients_.size() >= settings_.maxTcpClients) {
            ++counters_.overloaded;
            continue;
        }
        auto client = std::make_unique<TcpClient>();
        client->impl = this;
        client->id = nextId_++;
        client->fd = std::move(fd);
        sd_event_source* source = nullptr;
        if (sd_event_add_io(event_.get(), &source, client->fd.get(), EPOLLIN, &Impl::onTcpClient,
                            client.get()) < 0) {
            continue;
        }
        client->source.reset(source);
        TcpClient& added = *tcpClients_.emplace(client->id, std::move(client)).first->second;
        schedule(added.timer, now() + toMicroseconds(settings_.tcpIdleTimeout),
                 {TimerKind::tcpClient, added.id});
    }
}

int WanDnsForwarder::Impl::onTcpClient(sd_event_source*, int, std::uint32_t revents,
                                       void* userdata) noexcept {
    auto* client = static_cast<TcpClient*>(userdata);
    Impl* self = client->impl;
    const std::uint64_t id = client->id;
    try {
        self->serveTcpClient(*client, revents);
    } catch (...) {
        // Allocation failed: give up this connection rather than leave it half-read.
        self->closeTcpClient(id);
    }
    return 0;
}

void WanDnsForwarder::Impl::serveTcpClient(TcpClient& client, std::uint32_t revents) {
    client.dispatching = true;
    if ((revents & (EPOLLHUP | EPOLLERR)) != 0 && (client.paused || client.inputClosed)) {
        client.failed = true; // gone both ways: nothing more can be read or sent
    }
    if ((revents & (EPOLLIN | EPOLLHUP | EPOLLERR)) != 0 && !client.failed && !client.paused &&
        !client.inputClosed) {
        readTcpClient(client);
    }
    if ((revents & EPOLLOUT) != 0 && !client.failed) {
        flushTcpClient(client);
    }
    client.dispatching = false;
    closeTcpClientIfDone(client);
}

void WanDnsForwarder::Impl::readTcpClient(TcpClient& client) {
    for (std::size_t reads = 0; reads < maxTcpReadsPerWakeup; ++reads) {
        const std::size_t had = client.input.size();
        client.input.resize(had + tcpReadChunk);
        const ssize_t received =
            ::recv(client.fd.get(), client.input.data() + had, tcpReadChunk, 0);
        const int error = errno;
        client.input.resize(had + static_cast<std::size_t>(std::max<ssize_t>(received, 0)));
        if (received < 0) {
            if (error == EINTR) {
                continue;
            }
            if (error != EAGAIN && error != EWOULDBLOCK) {
                client.failed = true;
            }
            break;
        }
        if (received == 0) {
            client.inputClosed = true;
        }
        processTcpInput(client);
        if (client.inputClosed || client.failed || client.paused) {
            break;
        }
    }
}

// Every complete length-prefixed message (RFC 1035 §4.2.2), several per read when the
// client pipelines them (RFC 7766 §6.2.1), until the client has too many in flight.
void WanDnsForwarder::Impl::processTcpInput(TcpClient& client) {
    std::size_t offset = 0;
    while (client.input.size() - offset >= 2 && !client.failed && !client.paused) {
        const std::size_t length =
            static_cast<std::size_t>(client.input[offset] << 8 | client.input[offset + 1]);
        if (length == 0) {
            ++counters_.malformedDropped;
            client.failed = true;
            break;
        }
        if (client.input.size() - offset - 2 < length) {
            break;
        }
        const ClientRef ref{true, 0, {}, client.id};
        handleQuery(dns::Bytes(client.input.data() + offset + 2, length), ref);
        offset += 2 + length;
        // Idle is counted from the last complete message, so trickling bytes buys no time.
        schedule(client.timer, now() + toMicroseconds(settings_.tcpIdleTimeout),
                 {TimerKind::tcpClient, client.id});
        if (client.pending >= settings_.maxQueriesPerTcpClient) {
            client.paused = true;
        }
    }
    client.input.erase(client.input.begin(),
                       client.input.begin() + static_cast<std::ptrdiff_t>(offset));
}

void WanDnsForwarder::Impl::flushTcpClient(TcpClient& client) {
    while (client.written < client.output.size()) {
        const ssize_t sent = ::send(client.fd.get(), client.output.data() + client.written,
                                    client.output.size() - client.written, MSG_NOSIGNAL);
        if (sent < 0) {
            const int error = errno;
            if (error == EINTR) {
                continue;
            }
            if (error != EAGAIN && error != EWOULDBLOCK) {
                client.failed = true;
            }
            break;
        }
        client.written += static_cast<std::size_t>(sent);
    }
    if (client.written == client.output.size()) {
        client.output.clear();
        client.written = 0;
    } else if (client.written > client.output.size() / 2) {
        client.output.erase(client.output.begin(),
                            client.output.begin() + static_cast<std::ptrdiff_t>(client.written));
        client.written = 0;
    }
}

void WanDnsForwarder::Impl::updateTcpClientEvents(TcpClient& client) {
    // With neither (waiting for answers only) the source stays on: epoll reports EPOLLHUP
    // and EPOLLERR regardless, so a client that vanished meanwhile is noticed.
    std::uint32_t events = 0;
    if (!client.paused && !client.inputClosed) {
        events |= EPOLLIN;
    }
    if (client.written < client.output.size()) {
        events |= EPOLLOUT;
    }
    sd_event_source_set_io_events(client.source.get(), events);
}

void WanDnsForwarder::Impl::closeTcpClientIfDone(TcpClient& client) {
    if (client.dispatching) {
        return; // its own callback decides at the end
    }
    while (true) {
        const bool drained = client.written >= client.output.size();
        if (client.failed || (client.inputClosed && client.pending == 0 && drained)) {
            closeTcpClient(client.id);
            return;
        }
        if (!client.paused || client.pending >= settings_.maxQueriesPerTcpClient) {
            break;
        }
        client.paused = false;
        if (client.input.empty()) {
            break;
        }
        // Messages that arrived while paused are already read: no EPOLLIN will announce
        // them again.
        client.dispatching = true;
        processTcpInput(client);
        client.dispatching = false;
    }
    updateTcpClientEvents(client);
}

void WanDnsForwarder::Impl::closeTcpClient(std::uint64_t id) {
    const auto found = tcpClients_.find(id);
    if (found == tcpClients_.end()) {
        return;
    }
    cancel(found->second->timer);
    tcpClients_.erase(found);
}

} // namespace vpnsteer::wandns
