// vpnsteer pubkey: reads a private key from stdin and prints its public key, accepting and
// refusing the same input as `wg pubkey`, with the same messages.
#include "cli/subcommand.hpp"
#include "cli/wireguard_key.hpp"

#include <istream>
#include <ostream>

namespace vpnsteer::cli {

namespace {

// What `wg pubkey` lets follow the key: whitespace (a newline from `echo`, a file's last
// line) and NUL bytes.
bool isIgnorableAfterKey(char c) {
    switch (c) {
    case '\0':
    case ' ':
    case '\t':
    case '\n':
    case '\r':
    case '\v':
    case '\f':
        return true;
    default:
        return false;
    }
}

} // namespace

int pubkeyMain(const Invocation& invocation) {
    if (!invocation.args.empty())
        return invocation.usageError();
    if (!initialiseSodium()) {
        invocation.err << programName << ": cannot initialise libsodium\n";
        return 1;
    }

    // Like wg: the key is the first 44 characters, whatever they are; anything after them
    // but whitespace is refused rather than silently cut off.
    WireguardKeyBase64 base64;
    invocation.in.read(base64.text.data(), wireguardKeyBase64Length);
    if (static_cast<std::size_t>(invocation.in.gcount()) != wireguardKeyBase64Length) {
        invocation.err << programName << ": Key is not the correct length or format\n";
        return 1;
    }
    for (char c; invocation.in.get(c);) {
        if (!isIgnorableAfterKey(c)) {
            invocation.err << programName << ": Trailing characters found after key\n";
            return 1;
        }
    }

    WireguardKey privateKey;
    if (!decodeKey(base64.view(), privateKey)) {
        invocation.err << programName << ": Key is not the correct length or format\n";
        return 1;
    }
    WireguardKey publicKey;
    derivePublicKey(privateKey, publicKey);
    WireguardKeyBase64 publicBase64;
    encodeKey(publicKey, publicBase64);
    invocation.out << publicBase64.view() << '\n';
    return 0;
}

} // namespace vpnsteer::cli
