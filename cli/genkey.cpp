// vpnsteer genkey: a new WireGuard private key on stdout, byte for byte what `wg genkey`
// would print (random, clamped, base64).
#include "cli/subcommand.hpp"
#include "cli/wireguard_key.hpp"

#include <ostream>
#include <sys/stat.h>
#include <unistd.h>

namespace vpnsteer::cli {

namespace {

// `wg genkey > key` with the usual umask 022 leaves a private key readable by every
// user; wg warns about it, and so do we.
bool stdoutIsWorldAccessibleFile() {
    struct stat status {};
    return fstat(STDOUT_FILENO, &status) == 0 && S_ISREG(status.st_mode) &&
           (status.st_mode & S_IRWXO) != 0;
}

} // namespace

int genkeyMain(const Invocation& invocation) {
    if (!invocation.args.empty())
        return invocation.usageError();
    if (stdoutIsWorldAccessibleFile())
        invocation.err << "Warning: writing to world accessible file.\n"
                          "Consider setting the umask to 077 and trying again.\n";
    if (!initialiseSodium()) {
        invocation.err << programName << ": cannot initialise libsodium\n";
        return 1;
    }

    WireguardKey key;
    generateRandomKey(key);
    clampPrivateKey(key);
    WireguardKeyBase64 base64;
    encodeKey(key, base64);
    invocation.out << base64.view() << '\n';
    return 0;
}

} // namespace vpnsteer::cli
