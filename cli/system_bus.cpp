#include "cli/system_bus.hpp"

#include "cli/daemon.hpp"

#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <poll.h>
#include <sdbus-c++/Error.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

namespace vpnsteer::cli {

namespace {

constexpr const char* defaultSystemBus = "/run/dbus/system_bus_socket";
constexpr auto replyTimeout = std::chrono::seconds(25);

[[noreturn]] void disconnected(const std::string& why) {
    throw sdbus::Error("org.freedesktop.DBus.Error.Disconnected", why);
}

int hexDigit(char digit) {
    if (digit >= '0' && digit <= '9')
        return digit - '0';
    if (digit >= 'a' && digit <= 'f')
        return digit - 'a' + 10;
    if (digit >= 'A' && digit <= 'F')
        return digit - 'A' + 10;
    return -1;
}

// D-Bus addresses escape bytes as %xx.
std::string unescape(std::string_view value) {
    std::string text;
    for (std::size_t index = 0; index < value.size(); ++index) {
        if (value[index] == '%' && index + 2 < value.size() && hexDigit(value[index + 1]) >= 0 &&
            hexDigit(value[index + 2]) >= 0) {
            text.push_back(
                static_cast<char>(hexDigit(value[index + 1]) * 16 + hexDigit(value[index + 2])));
            index += 2;
        } else {
            text.push_back(value[index]);
        }
    }
    return text;
}

} // namespace

std::string unixSocketPathOf(std::string_view address) {
    while (!address.empty()) {
        const std::size_t end = address.find(';');
        std::string_view entry = address.substr(0, end);
        address = end == std::string_view::npos ? std::string_view() : address.substr(end + 1);
        if (!entry.starts_with("unix:"))
            continue;
        entry.remove_prefix(5);
        while (!entry.empty()) {
            const std::size_t comma = entry.find(',');
            const std::string_view pair = entry.substr(0, comma);
            entry = comma == std::string_view::npos ? std::string_view() : entry.substr(comma + 1);
            if (pair.starts_with("path="))
                return unescape(pair.substr(5));
            if (pair.starts_with("abstract="))
                return std::string(1, '\0') + unescape(pair.substr(9));
        }
    }
    return "";
}

SystemBus::SystemBus() {
    const char* address = std::getenv("DBUS_SYSTEM_BUS_ADDRESS");
    const std::string path = address ? unixSocketPathOf(address) : defaultSystemBus;
    if (path.empty())
        throw BusUnavailable(std::string("no unix socket in DBUS_SYSTEM_BUS_ADDRESS=") + address);
    sockaddr_un where{};
    where.sun_family = AF_UNIX;
    if (path.size() >= sizeof where.sun_path)
        throw BusUnavailable("the bus socket path is too long: " + path);
    std::memcpy(where.sun_path, path.data(), path.size());
    socket_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (socket_ < 0)
        throw BusUnavailable(std::string("cannot make a socket: ") + std::strerror(errno));
    const auto length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() +
                                               (path[0] == '\0' ? 0 : 1));
    if (::connect(socket_, reinterpret_cast<const sockaddr*>(&where), length) < 0) {
        const int error = errno;
        ::close(socket_);
        socket_ = -1;
        throw BusUnavailable("cannot connect to " + path + ": " + std::strerror(error));
    }
    // Sent with the first call: no round trip of its own. EXTERNAL with an empty identity (the
    // server asks with DATA, the empty DATA answers) as sd-bus does: dbus-daemon then takes
    // all of the socket's credentials, supplementary groups included, which its policy's
    // <policy group="vpnsteer"> needs; a uid given explicitly would stand for that uid alone.
    pending_ = std::string(1, '\0') + "AUTH EXTERNAL\r\nDATA\r\nBEGIN\r\n";
    pending_ += encodeMethodCall({.destination = "org.freedesktop.DBus",
                                  .path = "/org/freedesktop/DBus",
                                  .interface = "org.freedesktop.DBus",
                                  .member = "Hello"},
                                 nextSerial_++);
}

SystemBus::~SystemBus() {
    if (socket_ >= 0)
        ::close(socket_);
}

std::vector<BusValue> SystemBus::call(const MethodCall& call) {
    const std::uint32_t serial = nextSerial_++;
    pending_ += encodeMethodCall(call, serial);
    send(pending_);
    pending_.clear();
    BusMessage reply = receiveReply(serial);
    if (reply.type == BusMessage::Type::error) {
        std::string message;
        if (!reply.body.empty() && reply.body.front().signature() == "s")
            message = reply.body.front().asString();
        throw sdbus::Error(reply.errorName, message);
    }
    return std::move(reply.body);
}

void SystemBus::send(const std::string& bytes) {
    for (std::size_t done = 0; done < bytes.size();) {
        ssize_t sent = ::send(socket_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
        if (sent < 0 && errno == EINTR)
            continue;
        if (sent < 0)
            disconnected(std::string("writing to the bus: ") + std::strerror(errno));
        done += static_cast<std::size_t>(sent);
    }
}

BusMessage SystemBus::receiveReply(std::uint32_t serial) {
    const auto deadline = std::chrono::steady_clock::now() + replyTimeout;
    while (true) {
        if (!authenticated_)
            readAuthentication();
        if (authenticated_) {
            while (std::optional<BusMessage> message = takeMessage(received_)) {
                // Hello's answer and NameAcquired are of no interest: the bus closes the
                // connection if Hello fails, which shows below.
                const bool answer = message->type == BusMessage::Type::methodReturn ||
                                    message->type == BusMessage::Type::error;
                if (answer && message->replySerial == serial)
                    return std::move(*message);
            }
        }
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        pollfd ready{socket_, POLLIN, 0};
        const int count = left.count() > 0 ? ::poll(&ready, 1, static_cast<int>(left.count())) : 0;
        if (count < 0 && errno == EINTR)
            continue;
        if (count == 0)
            throw sdbus::Error("org.freedesktop.DBus.Error.Timeout", "no answer within 25 s");
        char buffer[4096];
        const ssize_t got = ::recv(socket_, buffer, sizeof buffer, 0);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            disconnected(std::string("reading from the bus: ") + std::strerror(errno));
        if (got == 0)
            disconnected("the bus closed the connection");
        received_.append(buffer, static_cast<std::size_t>(got));
    }
}

void SystemBus::readAuthentication() {
    for (std::size_t end; !authenticated_ && (end = received_.find("\r\n")) != std::string::npos;) {
        const std::string line = received_.substr(0, end);
        received_.erase(0, end + 2);
        if (line.starts_with("OK "))
            authenticated_ = true;
        else if (line != "DATA") // the empty challenge, answered in advance
            disconnected("the bus refused authentication: " + line);
    }
}

} // namespace vpnsteer::cli
