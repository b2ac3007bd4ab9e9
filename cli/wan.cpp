// vpnsteer wan [--spec FILE | --mark N] -- CMD [ARG]...: runs CMD with libpacketmark.so
// preloaded and the spec's WAN mark, so that every socket CMD opens carries the mark and its
// packets leave through the real uplink even while a VPN is system-wide (DESIGN.md, "Uplink
// only"): NTP sync, a captive portal's login page.
//
// Setting SO_MARK needs CAP_NET_ADMIN in the network namespace (CAP_NET_RAW too since Linux
// 5.17). libpacketmark never makes socket() fail, so a program without it would run unmarked,
// through the VPN, and look as if it worked: the mark is tried here first, and without the
// capability vpnsteer refuses to run CMD. Root has it; a service may get it with
// AmbientCapabilities=CAP_NET_RAW.
#include "cli/packetmark_preload.hpp"
#include "cli/subcommand.hpp"

#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <ostream>
#include <string>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

#ifndef VPNSTEER_PACKETMARK_PATH
#define VPNSTEER_PACKETMARK_PATH "/usr/lib/vpnsteer/libpacketmark.so"
#endif

namespace vpnsteer::cli {

namespace {

// Where the build tree and the tests point `vpnsteer wan` at their own library.
constexpr const char* libraryVariable = "VPNSTEER_PACKETMARK_LIBRARY";

std::optional<std::uint32_t> parseMark(std::string_view text) {
    int base = 10;
    if (text.starts_with("0x") || text.starts_with("0X")) {
        text.remove_prefix(2);
        base = 16;
    }
    std::uint32_t value = 0;
    const auto [last, error] = std::from_chars(text.data(), text.data() + text.size(), value, base);
    if (text.empty() || error != std::errc() || last != text.data() + text.size() || value == 0) {
        return std::nullopt;
    }
    return value;
}

// 0, or the errno that setting `mark` on a socket meets.
int tryMark(std::uint32_t mark) {
    const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return errno;
    }
    const int result = ::setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof mark) == 0 ? 0 : errno;
    ::close(fd);
    return result;
}

} // namespace

int wanMain(const Invocation& invocation) {
    std::string specPath = VPNSTEER_SPEC_PATH;
    std::optional<std::uint32_t> mark;
    std::size_t i = 0;
    for (; i < invocation.args.size() && invocation.args[i] != "--"; ++i) {
        const std::string_view option = invocation.args[i];
        if (i + 1 >= invocation.args.size()) {
            return invocation.usageError();
        }
        const std::string_view value = invocation.args[++i];
        if (option == "--spec") {
            specPath = value;
        } else if (option == "--mark") {
            mark = parseMark(value);
            if (!mark) {
                invocation.err << programName << ": wan: --mark must be 1..4294967295, got '"
                               << value << "'\n";
                return 1;
            }
        } else {
            return invocation.usageError();
        }
    }
    if (i + 1 >= invocation.args.size()) {
        return invocation.usageError(); // no "--" or no command after it
    }
    if (!mark) {
        const std::optional<std::string> text = invocation.host.readFile(specPath);
        if (!text) {
            invocation.err << programName << ": wan: cannot read " << specPath
                           << "; give the mark with --mark\n";
            return 1;
        }
        const WanMark found = wanMarkOf(*text);
        for (const std::string& error : found.errors) {
            invocation.err << error << '\n';
        }
        if (!found.errors.empty()) {
            return 1;
        }
        mark = found.mark;
    }

    const char* library = std::getenv(libraryVariable);
    const std::string libraryPath = library != nullptr ? library : VPNSTEER_PACKETMARK_PATH;
    if (::access(libraryPath.c_str(), R_OK) != 0) {
        invocation.err << programName << ": wan: " << libraryPath << ": " << std::strerror(errno)
                       << '\n';
        return 1;
    }
    if (const int error = tryMark(*mark); error != 0) {
        invocation.err << programName << ": wan: cannot set the WAN mark " << *mark << ": "
                       << std::strerror(error)
                       << " (it needs CAP_NET_ADMIN or CAP_NET_RAW: run it as root)\n";
        return 1;
    }

    const char* preload = std::getenv("LD_PRELOAD");
    for (const auto& [name, value] : packetmarkEnvironment(
             libraryPath, *mark,
             preload != nullptr ? std::optional<std::string>(preload) : std::nullopt)) {
        ::setenv(name.c_str(), value.c_str(), 1);
    }
    std::vector<std::string> command(invocation.args.begin() + static_cast<std::ptrdiff_t>(i) + 1,
                                     invocation.args.end());
    std::vector<char*> argv;
    for (std::string& argument : command) {
        argv.push_back(argument.data());
    }
    argv.push_back(nullptr);
    invocation.out.flush();
    ::execvp(argv[0], argv.data());
    const int error = errno;
    invocation.err << programName << ": wan: " << command[0] << ": " << std::strerror(error)
                   << '\n';
    return error == ENOENT ? 127 : 126;
}

} // namespace vpnsteer::cli
