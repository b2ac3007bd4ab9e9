// vpnsteer check FILE: validates a spec the way the generator and vpnsteerd will read it.
//
// On problems, stderr gets every one of them, one per line as "<JSON path>: <message>"
// (SpecError::toString) and nothing else, so scripts and the invalid-spec corpus can compare
// it exactly; the exit status is 1. Otherwise stdout gets one line per VPN, in id order,
// with the numbers derived from it.
#include "cli/subcommand.hpp"
#include "core/spec.hpp"
#include "service/file_text.hpp"

#include <algorithm>
#include <cerrno>
#include <istream>
#include <iterator>
#include <optional>
#include <ostream>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

namespace vpnsteer::cli {

namespace {

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
        std::optional<std::string> file = readFileText(path);
        if (!file) {
            const int error = errno; // ENOENT, EACCES, EISDIR...
            invocation.err << programName << ": cannot read " << path << ": "
                           << std::generic_category().message(error) << '\n';
            return 1;
        }
        text = std::move(*file);
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
