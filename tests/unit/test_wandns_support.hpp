// Helpers for the WAN DNS forwarder's unit tests: DNS messages built by hand, and fake
// upstream servers and clients that live on 127.0.0.1 in the test's own sd-event loop.
#pragma once

#include "service/wandns/handles.hpp"
#include "service/wandns/socket_address.hpp"

#include <arpa/inet.h>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <netinet/in.h>
#include <optional>
#include <string>
#include <string_view>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <systemd/sd-event.h>
#include <vector>

namespace vpnsteer::wandns::testing {

using Message = std::vector<std::uint8_t>;

inline void put16(Message& m, std::uint16_t v) {
    m.push_back(static_cast<std::uint8_t>(v >> 8));
    m.push_back(static_cast<std::uint8_t>(v));
}
inline std::uint16_t get16(const Message& m, std::size_t offset) {
    return static_cast<std::uint16_t>(m.at(offset) << 8 | m.at(offset + 1));
}

inline void putName(Message& m, std::string_view name) {
    while (!name.empty()) {
        const auto dot = name.find('.');
        const auto label = name.substr(0, dot);
        m.push_back(static_cast<std::uint8_t>(label.size()));
        m.insert(m.end(), label.begin(), label.end());
        name = dot == std::string_view::npos ? std::string_view() : name.substr(dot + 1);
    }
    m.push_back(0);
}

// A standard query with RD set, and an OPT record when `ednsSize` is given (with a
// 4-byte unknown EDNS option, so pass-through can be checked byte for byte).
inline Message makeQuery(std::uint16_t id, std::string_view name, std::uint16_t type = 1,
                         std::optional<std::uint16_t> ednsSize = std::nullopt) {
    Message m;
    put16(m, id);
    put16(m, 0x0100);
    put16(m, 1);
    put16(m, 0);
    put16(m, 0);
    put16(m, ednsSize ? 1 : 0);
    putName(m, name);
    put16(m, type);
    put16(m, 1);
    if (ednsSize) {
        m.push_back(0);
        put16(m, 41);
        put16(m, *ednsSize);
        put16(m, 0);
        put16(m, 0);
        put16(m, 8);     // RDLENGTH
        put16(m, 65001); // a local/experimental option code
        put16(m, 4);
        m.insert(m.end(), {0xde, 0xad, 0xbe, 0xef});
    }
    return m;
}

// The answer to `query` (header and question copied, QR set), with one record of type
// `type` whose RDATA is `rdata`, and `flags` added (e.g. TC).
inline Message makeAnswer(const Message& query, std::uint16_t type, const Message& rdata,
                          std::uint16_t flags = 0) {
    Message m;
    put16(m, get16(query, 0));
    put16(m, static_cast<std::uint16_t>(0x8180 | flags));
    put16(m, 1);
    put16(m, 1);
    put16(m, 0);
    put16(m, 0);
    std::size_t questionEnd = 12;
    while (query.at(questionEnd) != 0) {
        questionEnd += 1 + query.at(questionEnd);
    }
    questionEnd += 5;
    m.insert(m.end(), query.begin() + 12, query.begin() + static_cast<std::ptrdiff_t>(questionEnd));
    put16(m, 0xc00c);
    put16(m, type);
    put16(m, 1);
    put16(m, 0);
    put16(m, 60);
    put16(m, static_cast<std::uint16_t>(rdata.size()));
    m.insert(m.end(), rdata.begin(), rdata.end());
    return m;
}

inline Message addressAnswer(const Message& query, std::uint8_t last = 7) {
    return makeAnswer(query, 1, {203, 0, 113, last});
}

// TXT RDATA of about `size` bytes, in strings of at most 255.
inline Message bigTxt(std::size_t size) {
    Message rdata;
    while (rdata.size() < size) {
        const std::size_t chunk = std::min<std::size_t>(200, size - rdata.size());
        rdata.push_back(static_cast<std::uint8_t>(chunk));
        rdata.insert(rdata.end(), chunk, 'x');
    }
    return rdata;
}

inline std::uint16_t idOf(const Message& m) {
    return get16(m, 0);
}
inline std::uint16_t flagsOf(const Message& m) {
    return get16(m, 2);
}
inline unsigned rcodeOf(const Message& m) {
    return flagsOf(m) & 0xf;
}

// The test's sd-event loop, run in slices until a condition holds or time is up.
class Loop {
public:
    Loop() {
        sd_event* e = nullptr;
        sd_event_new(&e);
        event_.reset(e);
    }
    sd_event* get() const { return event_.get(); }

    bool runUntil(const std::function<bool()>& done,
                  std::chrono::milliseconds limit = std::chrono::milliseconds(3000)) {
        const auto end = std::chrono::steady_clock::now() + limit;
        while (!done()) {
            if (std::chrono::steady_clock::now() >= end) {
                return false;
            }
            sd_event_run(event_.get(), 10 * 1000);
        }
        return true;
    }
    void runFor(std::chrono::milliseconds duration) {
        const auto end = std::chrono::steady_clock::now() + duration;
        while (std::chrono::steady_clock::now() < end) {
            sd_event_run(event_.get(), 10 * 1000);
        }
    }

private:
    EventPtr event_;
};

inline SocketAddress boundAddress(int fd) {
    sockaddr_storage s{};
    socklen_t length = sizeof s;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&s), &length);
    return SocketAddress::fromSockaddr(reinterpret_cast<sockaddr*>(&s), length);
}

inline UniqueFd udpSocket(const char* address = "127.0.0.1:0") {
    const auto where = SocketAddress::parse(address, 0);
    UniqueFd fd(::socket(where.family(), SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    ::bind(fd.get(), where.get(), where.length());
    return fd;
}

// A DNS server on 127.0.0.1 (UDP, and TCP on the same port) whose answers the test writes:
// `answer` returns the datagrams to send back for each query it receives (none: silence).
class FakeUpstream {
public:
    struct Received {
        Message message;
        SocketAddress from;
        bool tcp = false;
    };
    using Answerer = std::function<std::vector<Message>(const Message&, bool tcp)>;

    FakeUpstream(Loop& loop, Answerer answer)
        : answer_(std::move(answer))
        , loop_(&loop) {
        udp_ = udpSocket();
        address_ = boundAddress(udp_.get());
        sd_event_source* s = nullptr;
        sd_event_add_io(loop.get(), &s, udp_.get(), EPOLLIN, &FakeUpstream::onUdp, this);
        udpSource_.reset(s);
        tcp_.reset(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
        const int on = 1;
        ::setsockopt(tcp_.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
        ::bind(tcp_.get(), address_.get(), address_.length());
        ::listen(tcp_.get(), 16);
        sd_event_add_io(loop.get(), &s, tcp_.get(), EPOLLIN, &FakeUpstream::onAccept, this);
        tcpSource_.reset(s);
    }
    const SocketAddress& address() const { return address_; }
    const std::vector<Received>& received() const { return received_; }

private:
    static int onUdp(sd_event_source*, int fd, std::uint32_t, void* data) {
        auto* self = static_cast<FakeUpstream*>(data);
        Message buffer(65536);
        sockaddr_storage from{};
        socklen_t length = sizeof from;
        const ssize_t n = ::recvfrom(fd, buffer.data(), buffer.size(), 0,
                                     reinterpret_cast<sockaddr*>(&from), &length);
        if (n < 0) {
            return 0;
        }
        buffer.resize(static_cast<std::size_t>(n));
        const auto peer = SocketAddress::fromSockaddr(reinterpret_cast<sockaddr*>(&from), length);
        self->received_.push_back({buffer, peer, false});
        for (const auto& reply : self->answer_(buffer, false)) {
            ::sendto(fd, reply.data(), reply.size(), 0, peer.get(), peer.length());
        }
        return 0;
    }
    // TCP: one query per connection, read as the loop delivers it (blocking here would stop
    // the forwarder, which runs in the same loop).
    struct Connection {
        FakeUpstream* owner = nullptr;
        Message input;
        UniqueFd fd;
        EventSourcePtr source;
    };
    static int onAccept(sd_event_source*, int fd, std::uint32_t, void* data) {
        auto* self = static_cast<FakeUpstream*>(data);
        auto connection = std::make_unique<Connection>();
        connection->owner = self;
        connection->fd.reset(::accept4(fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
        if (!connection->fd) {
            return 0;
        }
        sd_event_source* s = nullptr;
        sd_event_add_io(self->loop_->get(), &s, connection->fd.get(), EPOLLIN,
                        &FakeUpstream::onConnection, connection.get());
        connection->source.reset(s);
        self->connections_.push_back(std::move(connection));
        return 0;
    }
    static int onConnection(sd_event_source* source, int fd, std::uint32_t, void* data) {
        auto* connection = static_cast<Connection*>(data);
        std::uint8_t chunk[4096];
        const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
        if (n <= 0) {
            sd_event_source_set_enabled(source, SD_EVENT_OFF);
            return 0;
        }
        connection->input.insert(connection->input.end(), chunk, chunk + n);
        if (connection->input.size() < 2 ||
            connection->input.size() < 2u + get16(connection->input, 0)) {
            return 0;
        }
        const Message query(connection->input.begin() + 2, connection->input.end());
        FakeUpstream* self = connection->owner;
        self->received_.push_back({query, {}, true});
        for (const auto& reply : self->answer_(query, true)) {
            Message framed;
            put16(framed, static_cast<std::uint16_t>(reply.size()));
            framed.insert(framed.end(), reply.begin(), reply.end());
            ::send(fd, framed.data(), framed.size(), MSG_NOSIGNAL);
        }
        return 0;
    }

    Answerer answer_;
    Loop* loop_ = nullptr;
    SocketAddress address_;
    std::vector<Received> received_;
    UniqueFd udp_;
    EventSourcePtr udpSource_;
    UniqueFd tcp_;
    EventSourcePtr tcpSource_;
    std::vector<std::unique_ptr<Connection>> connections_;
};

// A UDP client socket whose answers the loop collects.
class UdpClient {
public:
    explicit UdpClient(Loop& loop, const char* bind = "127.0.0.1:0") {
        fd_ = udpSocket(bind);
        sd_event_source* s = nullptr;
        sd_event_add_io(loop.get(), &s, fd_.get(), EPOLLIN, &UdpClient::onReadable, this);
        source_.reset(s);
    }
    void send(const Message& m, const SocketAddress& to) {
        ::sendto(fd_.get(), m.data(), m.size(), 0, to.get(), to.length());
    }
    std::vector<Message>& answers() { return answers_; }
    SocketAddress address() const { return boundAddress(fd_.get()); }

private:
    static int onReadable(sd_event_source*, int fd, std::uint32_t, void* data) {
        Message buffer(65536);
        const ssize_t n = ::recv(fd, buffer.data(), buffer.size(), 0);
        if (n >= 0) {
            buffer.resize(static_cast<std::size_t>(n));
            static_cast<UdpClient*>(data)->answers_.push_back(buffer);
        }
        return 0;
    }
    UniqueFd fd_;
    EventSourcePtr source_;
    std::vector<Message> answers_;
};

// A TCP client connection whose framed answers the loop collects; `closed` turns true when
// the forwarder closes it.
class TcpClient {
public:
    TcpClient(Loop& loop, const SocketAddress& to) {
        fd_.reset(::socket(to.family(), SOCK_STREAM | SOCK_CLOEXEC, 0));
        connected_ = ::connect(fd_.get(), to.get(), to.length()) == 0;
        sd_event_source* s = nullptr;
        sd_event_add_io(loop.get(), &s, fd_.get(), EPOLLIN, &TcpClient::onReadable, this);
        source_.reset(s);
    }
    bool connected() const { return connected_; }
    void sendRaw(const Message& bytes) {
        ::send(fd_.get(), bytes.data(), bytes.size(), MSG_NOSIGNAL);
    }
    void send(const Message& m) {
        Message framed;
        put16(framed, static_cast<std::uint16_t>(m.size()));
        framed.insert(framed.end(), m.begin(), m.end());
        sendRaw(framed);
    }
    std::vector<Message>& answers() { return answers_; }
    bool closed() const { return closed_; }

private:
    static int onReadable(sd_event_source* source, int fd, std::uint32_t, void* data) {
        auto* self = static_cast<TcpClient*>(data);
        std::uint8_t chunk[4096];
        const ssize_t n = ::recv(fd, chunk, sizeof chunk, MSG_DONTWAIT);
        if (n <= 0) {
            if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
                self->closed_ = true;
                sd_event_source_set_enabled(source, SD_EVENT_OFF);
            }
            return 0;
        }
        self->buffer_.insert(self->buffer_.end(), chunk, chunk + n);
        while (self->buffer_.size() >= 2) {
            const std::size_t length = get16(self->buffer_, 0);
            if (self->buffer_.size() < 2 + length) {
                break;
            }
            self->answers_.emplace_back(self->buffer_.begin() + 2,
                                        self->buffer_.begin() + 2 +
                                            static_cast<std::ptrdiff_t>(length));
            self->buffer_.erase(self->buffer_.begin(),
                                self->buffer_.begin() + 2 + static_cast<std::ptrdiff_t>(length));
        }
        return 0;
    }
    UniqueFd fd_;
    EventSourcePtr source_;
    bool connected_ = false;
    bool closed_ = false;
    Message buffer_;
    std::vector<Message> answers_;
};

} // namespace vpnsteer::wandns::testing
