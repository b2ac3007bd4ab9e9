// vpnsteer fastd-pubkey [FILE]: the public key of a fastd secret, as fastd itself derives it
// (`fastd --show-key`): the `key` a peer lists for this end. Reads FILE, or stdin, holding
// either a secretFile (`secret "HEX";`, as fastd-genkey writes it) or the bare secret.
#include "cli/fastd_program.hpp"
#include "cli/subcommand.hpp"

#include <algorithm>
#include <istream>
#include <iterator>
#include <ostream>
#include <regex>

namespace vpnsteer::cli {
namespace {

bool isHex64(const std::string& text) {
    return text.size() == 64 && std::all_of(text.begin(), text.end(), [](char c) {
               return std::isxdigit(static_cast<unsigned char>(c)) != 0;
           });
}

// The secret in `text`, or "" when it holds none. Only this one statement is accepted: the
// text goes to fastd as a config, and must not carry other settings into it.
std::string secretIn(const std::string& text) {
    static const std::regex statement(R"re(^\s*secret\s+"([0-9A-Fa-f]{64})"\s*;\s*$)re");
    static const std::regex bare(R"(^\s*([0-9A-Fa-f]{64})\s*$)");
    std::smatch match;
    if (std::regex_match(text, match, statement) || std::regex_match(text, match, bare))
        return match[1];
    return "";
}

} // namespace

int fastdPubkeyMain(const Invocation& invocation) {
    if (invocation.args.size() > 1)
        return invocation.usageError();
    std::string text;
    if (invocation.args.empty() || invocation.args[0] == "-") {
        text.assign(std::istreambuf_iterator<char>(invocation.in), {});
    } else {
        const std::string path(invocation.args[0]);
        auto read = invocation.host.readFile(path);
        if (!read) {
            invocation.err << programName << ": cannot read " << path << "\n";
            return 1;
        }
        text = *read;
    }
    const std::string secret = secretIn(text);
    if (!isHex64(secret)) {
        invocation.err << programName
                       << ": expected a fastd secret: secret \"<64 hex digits>\"; or the bare "
                          "64 hex digits\n";
        return 1;
    }
    const ProgramResult fastd = runFastd({"--config", "-", "--show-key", "--machine-readable"},
                                         "secret \"" + secret + "\";\n");
    std::string key = fastd.out.substr(0, fastd.out.find('\n'));
    if (fastd.status != 0 || !isHex64(key)) {
        invocation.err << programName << ": fastd --show-key refused the secret (exit status "
                       << fastd.status << "): " << fastd.err;
        return 1;
    }
    invocation.out << key << "\n";
    return 0;
}

} // namespace vpnsteer::cli
