#include "service/wireguard/key.hpp"

#include "service/file_text.hpp"

#include <algorithm>
#include <cerrno>
#include <sodium.h>
#include <system_error>

namespace vpnsteer::wireguard {

static_assert(sizeof(WireguardKey::bytes) == crypto_scalarmult_curve25519_BYTES);

WireguardKey::~WireguardKey() {
    sodium_memzero(bytes.data(), bytes.size());
}

bool WireguardKey::isZero() const {
    return sodium_is_zero(bytes.data(), bytes.size()) == 1;
}

std::optional<WireguardKey> decodeBase64Key(std::string_view base64) {
    WireguardKey key;
    std::size_t length = 0;
    if (base64.size() != 44 ||
        sodium_base642bin(key.bytes.data(), key.bytes.size(), base64.data(), base64.size(), nullptr,
                          &length, nullptr, sodium_base64_VARIANT_ORIGINAL) != 0 ||
        length != key.bytes.size()) {
        return std::nullopt;
    }
    return key;
}

std::optional<WireguardKey> decodeHexKey(std::string_view hex) {
    WireguardKey key;
    std::size_t length = 0;
    if (hex.size() != 64 ||
        sodium_hex2bin(key.bytes.data(), key.bytes.size(), hex.data(), hex.size(), nullptr, &length,
                       nullptr) != 0 ||
        length != key.bytes.size()) {
        return std::nullopt;
    }
    return key;
}

std::string toBase64(const WireguardKey& key) {
    char text[sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_ORIGINAL)];
    sodium_bin2base64(text, sizeof text, key.bytes.data(), key.bytes.size(),
                      sodium_base64_VARIANT_ORIGINAL);
    return text;
}

std::string toHex(const WireguardKey& key) {
    char text[2 * 32 + 1];
    sodium_bin2hex(text, sizeof text, key.bytes.data(), key.bytes.size());
    return text;
}

WireguardKey publicKeyOf(const WireguardKey& privateKey) {
    // RFC 7748 section 5: WireGuard clamps the scalar before use, so a key file holding an
    // unclamped scalar still names the same public key (`wg pubkey` does the same).
    if (sodium_init() < 0) {
        throw std::system_error(ENOSYS, std::generic_category(), "initialising libsodium");
    }
    WireguardKey scalar = privateKey;
    scalar.bytes[0] &= 248;
    scalar.bytes[31] = (scalar.bytes[31] & 127) | 64;
    WireguardKey publicKey;
    crypto_scalarmult_curve25519_base(publicKey.bytes.data(), scalar.bytes.data());
    return publicKey;
}

WireguardKey readKeyFile(const std::string& path) {
    std::optional<std::string> read = readFileText(path);
    if (!read) {
        throw std::system_error(errno, std::generic_category(), "reading the key file " + path);
    }
    std::string& text = *read;
    const auto end = std::find_if(text.rbegin(), text.rend(), [](char c) {
                         return c != '\n' && c != ' ' && c != '\t' && c != '\r';
                     }).base();
    std::optional<WireguardKey> key = decodeBase64Key(std::string_view(text.begin(), end));
    sodium_memzero(text.data(), text.size());
    if (!key) {
        throw std::system_error(EINVAL, std::generic_category(),
                                "reading the key file " + path +
                                    ": it does not hold a base64 WireGuard key");
    }
    return *key;
}

} // namespace vpnsteer::wireguard
