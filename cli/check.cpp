// vpnsteer check FILE: validates a spec the way the generator and vpnsteerd will read it.
//
// On problems, stderr gets every one of them, one per line as "<JSON path>: <message>"
// (SpecError::toString) and nothing else, so scripts and the invalid-spec corpus can compare
// it exactly; the exit status is 1. Otherwise stdout gets one line per VPN, in id order,
// with the numbers derived from it.
#include "cli/subcommand.hpp"
#include "core/spec.hpp"
#include "core/unique_fd.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <fcntl.h>
#include <istream>
#include <iterator>
#include <ostream>
#include <string>
#include <system_error>
#include <unistd.h>
#include <vector>

namespace vpnsteer::cli {

namespace {

// Throws std::system_error with errno (ENOENT, EACCES, EISDIR...) when the file cannot be read.
std::string readFile(const std::string& path) {
    UniqueFd file(open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!file)
        throw std::system_error(errno, std::generic_category());
    std::string text;
    std::array<char, 65536> buffer;
    for (;;) {
        ssize_t count = read(file.get(), buffer.data(), buffer.size());
        if (count < 0 && errno == EINTR)
            continue;
        if (count < 0)
            throw std::system_error(errno, std::generic_category());
        if (count == 0)
            return text;
        text.append(buffer.data(), static_cast<std::size_t>(count));
    }
}

void printSummary(std::ostream& out, const Vpn& vpn) {
    out << vpn.name << ": id " << vpn.id << ", table " << vpn.routingTable() << ", fwmark "
        << vpn.firewallMark() << ", bridge " << vpn.bridge << ' ' << vpn.bridgeAddressV4()
        << ", protocol " << toString(vpn.protocol) << '\n';
}

} // namespace

int checkMain(const Invocation& invocation) {
    if (invocation.args.size() != 1)
        return invocation.usageError();
    const std::string path(invocation.args[0]);

    std::string text;
    if (path == "-") {
        text.assign(std::istreambuf_iterator<char>(invocation.in), {});
        if (invocation.in.bad()) {
            invocation.err << programName << ": cannot read standard input\n";
            return 1;
        }
    } else {
        try {
            text = readFile(path);
        } catch (const std::system_error& error) {
            invocation.err << programName << ": cannot read " << path << ": "
                           << error.code().message() << '\n';
            return 1;
        }
    }

    const ParseResult result = parseSpec(text);
    if (!result.ok()) {
        for (const SpecError& error : result.errors)
            invocation.err << error.toString() << '\n';
        return 1;
    }

    std::vector<const Vpn*> byId;
    for (const auto& [name, vpn] : result.spec.vpns)
        byId.push_back(&vpn);
    std::ranges::sort(byId, {}, &Vpn::id);
    for (const Vpn* vpn : byId)
        printSummary(invocation.out, *vpn);
    return 0;
}

} // namespace vpnsteer::cli
