#include "service/fastd/status_socket.hpp"

#include "core/unique_fd.hpp"

#include <cerrno>
#include <cstring>
#include <sys/socket.h>
#include <sys/un.h>
#include <system_error>
#include <unistd.h>

namespace vpnsteer::fastd {
namespace {

std::system_error failure(const std::string& what) {
    return std::system_error(errno, std::generic_category(), what);
}

} // namespace

std::string UnixStatusSocket::read(const std::string& path) {
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    if (path.size() >= sizeof(address.sun_path)) {
        throw std::system_error(ENAMETOOLONG, std::generic_category(), "reading " + path);
    }
    std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
    UniqueFd socket(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (socket.get() < 0) {
        throw failure("creating a socket for " + path);
    }
    const timeval timeout{0, 200'000};
    ::setsockopt(socket.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    if (::connect(socket.get(), reinterpret_cast<const sockaddr*>(&address), sizeof(address)) !=
        0) {
        throw failure("connecting to " + path);
    }
    std::string text;
    char buffer[4096];
    for (;;) {
        const ssize_t got = ::recv(socket.get(), buffer, sizeof(buffer), 0);
        if (got == 0) {
            return text;
        }
        if (got < 0) {
            if (errno == EINTR) {
                continue;
            }
            throw failure("reading " + path);
        }
        text.append(buffer, static_cast<std::size_t>(got));
        if (text.size() > (1u << 20)) {
            throw std::system_error(EMSGSIZE, std::generic_category(), "reading " + path);
        }
    }
}

} // namespace vpnsteer::fastd
