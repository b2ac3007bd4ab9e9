#include "service/wireguard/uapi_device.hpp"

#include "core/unique_fd.hpp"
#include "service/wireguard/uapi_protocol.hpp"

#include <cerrno>
#include <cstring>
#include <sodium.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <system_error>
#include <unistd.h>

namespace vpnsteer::wireguard {

namespace {

// wireguard-go answers at once; a stuck one must not stall vpnsteerd's event loop long.
constexpr timeval socketTimeout{.tv_sec = 2, .tv_usec = 0};

// The request may hold a private key: wiped once sent.
struct WipedString {
    std::string text;
    ~WipedString() { sodium_memzero(text.data(), text.size()); }
};

} // namespace

std::string uapiSocketPath(std::string_view name, std::string_view folder) {
    return std::string(folder) + "/" + std::string(name) + ".sock";
}

UapiWireguardDevice::UapiWireguardDevice(std::string name, std::string folder)
    : name_(std::move(name))
    , socketPath_(uapiSocketPath(name_, folder)) {}

std::string UapiWireguardDevice::exchange(std::string_view request, const std::string& what) {
    const auto fail = [&](int error, const std::string& step) {
        return std::system_error(error, std::generic_category(),
                                 what + " of " + name_ + ": " + step + " " + socketPath_);
    };
    UniqueFd socket(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (socket.get() < 0) {
        throw fail(errno, "creating a socket for");
    }
    setsockopt(socket.get(), SOL_SOCKET, SO_RCVTIMEO, &socketTimeout, sizeof socketTimeout);
    setsockopt(socket.get(), SOL_SOCKET, SO_SNDTIMEO, &socketTimeout, sizeof socketTimeout);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    if (socketPath_.size() >= sizeof address.sun_path) {
        throw fail(ENAMETOOLONG, "connecting to");
    }
    std::memcpy(address.sun_path, socketPath_.c_str(), socketPath_.size() + 1);
    if (::connect(socket.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) < 0) {
        throw fail(errno, "connecting to");
    }
    for (std::size_t sent = 0; sent < request.size();) {
        const ssize_t count =
            ::send(socket.get(), request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
        if (count < 0 && errno != EINTR) {
            throw fail(errno, "writing to");
        }
        sent += count < 0 ? 0 : static_cast<std::size_t>(count);
    }
    std::string answer;
    char buffer[4096];
    while (answer.size() < 2 || answer.compare(answer.size() - 2, 2, "\n\n") != 0) {
        const ssize_t count = ::recv(socket.get(), buffer, sizeof buffer, 0);
        if (count < 0 && errno == EINTR) {
            continue;
        }
        if (count < 0) {
            throw fail(errno == EAGAIN ? ETIMEDOUT : errno, "reading from");
        }
        if (count == 0) {
            throw fail(EPROTO, "an answer cut short by");
        }
        answer.append(buffer, static_cast<std::size_t>(count));
    }
    return answer;
}

void UapiWireguardDevice::apply(const DeviceChange& change) {
    WipedString request{encodeUapiSet(change)};
    std::string answerText = exchange(request.text, "configuring");
    const UapiAnswer answer = parseUapiAnswer(answerText);
    if (answer.error != 0) {
        throw std::system_error(answer.error, std::generic_category(),
                                "configuring " + name_ + " through " + socketPath_ +
                                    ": wireguard-go refused the change");
    }
}

DeviceStatus UapiWireguardDevice::status() {
    WipedString answerText{exchange(uapiGetRequest, "reading the state")};
    UapiAnswer answer = parseUapiAnswer(answerText.text);
    if (answer.error != 0) {
        throw std::system_error(answer.error, std::generic_category(),
                                "reading the state of " + name_ + " through " + socketPath_);
    }
    return std::move(answer.status);
}

} // namespace vpnsteer::wireguard
