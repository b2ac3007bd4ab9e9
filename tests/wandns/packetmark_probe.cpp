// What libpacketmark.so does to a program: opens sockets through the exported socket()
// and reports their SO_MARK, and what errno looks like around socket() calls that succeed
// and fail. tests/wandns/packetmark.sh runs it with and without the library.
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <sys/socket.h>
#include <unistd.h>

namespace {

void reportMark(const char* name, int domain, int type) {
    const int fd = ::socket(domain, type, 0);
    if (fd < 0) {
        std::printf("%s socket-failed errno=%d\n", name, errno);
        return;
    }
    std::uint32_t mark = 0;
    socklen_t length = sizeof mark;
    if (::getsockopt(fd, SOL_SOCKET, SO_MARK, &mark, &length) != 0) {
        std::printf("%s getsockopt-failed errno=%d\n", name, errno);
    } else {
        std::printf("%s mark=%u\n", name, mark);
    }
    ::close(fd);
}

} // namespace

int main() {
    reportMark("inet-udp", AF_INET, SOCK_DGRAM);
    reportMark("inet-tcp", AF_INET, SOCK_STREAM);
    reportMark("inet6-udp", AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC);
    reportMark("unix", AF_UNIX, SOCK_STREAM);

    // A successful socket() leaves errno alone, with the library too (its setsockopt may
    // fail, e.g. without CAP_NET_ADMIN, and must not show).
    errno = 1234;
    const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
    std::printf("success fd-ok=%d errno=%d\n", fd >= 0 ? 1 : 0, errno);
    if (fd >= 0) {
        ::close(fd);
    }

    // A failing socket() fails the same way, with its own errno.
    errno = 0;
    int rc = ::socket(12345, SOCK_DGRAM, 0);
    std::printf("bad-family rc=%d errno=%s\n", rc, std::strerror(errno));
    errno = 0;
    rc = ::socket(AF_INET, 0x7ff, 0);
    std::printf("bad-type rc=%d errno=%s\n", rc, std::strerror(errno));
    return 0;
}
