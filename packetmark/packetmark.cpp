// libpacketmark.so: an LD_PRELOAD library that puts a firewall mark (SO_MARK) on every
// socket the program creates with socket(2), so that `vpnsteer wan -- CMD` and any program
// run with it leave through the real uplink (DESIGN.md, "Uplink only").
//
// The mark comes from LIBPACKETMARK_MARK, decimal or 0x hex, read once when the library is
// loaded. Absent, empty or invalid: the library does nothing. Setting SO_MARK needs
// CAP_NET_ADMIN; without it the socket stays unmarked, as it would without the library.
//
// Rules for code that runs inside every program: never make socket() fail, leave errno as
// the real socket() left it, allocate nothing, and depend on no C++ runtime (the library is
// linked without libstdc++ and built without exceptions or RTTI).
//
// Wrapping socket() through dlsym(RTLD_NEXT) is the whole purpose of a preload library;
// the rest of vpnsteer never interposes libc. Sockets that libc opens internally (its stub
// resolver calls __socket, not the exported symbol) are not seen here: DNS of a program
// under `vpnsteer wan` goes to the WAN DNS forwarder through the vpnsteer-wan group's
// redirect instead.
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <dlfcn.h>
#include <sys/socket.h>

namespace {

using SocketFunction = int (*)(int, int, int);

// Written once by the constructor (before main and before other threads, in the normal
// case), read afterwards; the lazy path in socket() covers a constructor that has not run
// yet when another library's constructor opens a socket.
SocketFunction realSocket = nullptr;
bool markWanted = false;
std::uint32_t mark = 0;

// "10000" or "0x2710": the whole string must be digits of its base and fit in 32 bits.
bool parseMark(const char* text, std::uint32_t& value) {
    if (text == nullptr || *text == '\0') {
        return false;
    }
    unsigned base = 10;
    if (text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
        base = 16;
        text += 2;
        if (*text == '\0') {
            return false;
        }
    }
    std::uint64_t result = 0;
    for (; *text != '\0'; ++text) {
        unsigned digit;
        const char c = *text;
        if (c >= '0' && c <= '9') {
            digit = static_cast<unsigned>(c - '0');
        } else if (base == 16 && c >= 'a' && c <= 'f') {
            digit = static_cast<unsigned>(c - 'a' + 10);
        } else if (base == 16 && c >= 'A' && c <= 'F') {
            digit = static_cast<unsigned>(c - 'A' + 10);
        } else {
            return false;
        }
        result = result * base + digit;
        if (result > 0xffffffffu) {
            return false;
        }
    }
    value = static_cast<std::uint32_t>(result);
    return true;
}

void initialize() {
    const int savedErrno = errno;
    realSocket = reinterpret_cast<SocketFunction>(dlsym(RTLD_NEXT, "socket"));
    std::uint32_t value = 0;
    // Mark 0 is every socket's default: asking for it changes nothing.
    markWanted = parseMark(std::getenv("LIBPACKETMARK_MARK"), value) && value != 0;
    mark = value;
    errno = savedErrno;
}

__attribute__((constructor)) void loaded() {
    initialize();
}

} // namespace

extern "C" __attribute__((visibility("default"))) int socket(int domain, int type, int protocol) {
    if (realSocket == nullptr) {
        initialize();
        if (realSocket == nullptr) {
            errno = ENOSYS; // no libc below us: nothing could have made a socket
            return -1;
        }
    }
    const int fd = realSocket(domain, type, protocol);
    if (fd < 0 || !markWanted) {
        return fd;
    }
    const int savedErrno = errno;
    // Failure (no CAP_NET_ADMIN) leaves the socket as the program asked for it.
    setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof mark);
    errno = savedErrno;
    return fd;
}
