// vpnsteer fastd-genkey: a new fastd secret, made by fastd itself (`fastd --generate-key`),
// written to stdout as the line a VPN's secretFile holds: secret "HEX";
#include "cli/fastd_program.hpp"
#include "cli/subcommand.hpp"

#include <algorithm>
#include <ostream>
#include <sys/stat.h>
#include <unistd.h>

namespace vpnsteer::cli {

int fastdGenkeyMain(const Invocation& invocation) {
    if (!invocation.args.empty())
        return invocation.usageError();
    struct stat status {};
    // As genkey: a secret in a file every user can read is no secret.
    if (fstat(STDOUT_FILENO, &status) == 0 && S_ISREG(status.st_mode) &&
        (status.st_mode & S_IRWXO) != 0)
        invocation.err << "Warning: writing to world accessible file.\n"
                          "Consider setting the umask to 077 and trying again.\n";
    const ProgramResult fastd = runFastd({"--generate-key", "--machine-readable"}, "");
    std::string secret = fastd.out.substr(0, fastd.out.find('\n'));
    const bool hex = secret.size() == 64 && std::all_of(secret.begin(), secret.end(), [](char c) {
                         return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
                     });
    if (fastd.status != 0 || !hex) {
        invocation.err << programName << ": fastd --generate-key failed (exit status "
                       << fastd.status << "): " << fastd.err;
        return 1;
    }
    invocation.out << "secret \"" << secret << "\";\n";
    return 0;
}

} // namespace vpnsteer::cli
