#include "cli/wireguard_key.hpp"

#include <sodium.h>

namespace vpnsteer::cli {

static_assert(wireguardKeyLength == crypto_scalarmult_curve25519_BYTES);
static_assert(wireguardKeyLength == crypto_scalarmult_curve25519_SCALARBYTES);
static_assert(wireguardKeyBase64Length + 1 ==
              sodium_base64_ENCODED_LEN(wireguardKeyLength, sodium_base64_VARIANT_ORIGINAL));

WireguardKey::~WireguardKey() {
    sodium_memzero(bytes.data(), bytes.size());
}

WireguardKeyBase64::~WireguardKeyBase64() {
    sodium_memzero(text.data(), text.size());
}

bool initialiseSodium() {
    return sodium_init() >= 0;
}

void generateRandomKey(WireguardKey& key) {
    randombytes_buf(key.bytes.data(), key.bytes.size());
}

void clampPrivateKey(WireguardKey& key) {
    key.bytes[0] &= 248;
    key.bytes[31] = (key.bytes[31] & 127) | 64;
}

void derivePublicKey(const WireguardKey& privateKey, WireguardKey& publicKey) {
    // Never fails for the base point: libsodium only refuses an all-zero result, which a
    // clamped scalar cannot produce.
    crypto_scalarmult_curve25519_base(publicKey.bytes.data(), privateKey.bytes.data());
}

void encodeKey(const WireguardKey& key, WireguardKeyBase64& base64) {
    sodium_bin2base64(base64.text.data(), base64.text.size(), key.bytes.data(), key.bytes.size(),
                      sodium_base64_VARIANT_ORIGINAL);
}

bool decodeKey(std::string_view base64, WireguardKey& key) {
    if (base64.size() != wireguardKeyBase64Length)
        return false;
    std::size_t decodedLength = 0;
    // No characters to ignore and no end pointer: libsodium then fails on anything that is
    // not canonical padded base64, including non-zero padding bits.
    if (sodium_base642bin(key.bytes.data(), key.bytes.size(), base64.data(), base64.size(), nullptr,
                          &decodedLength, nullptr, sodium_base64_VARIANT_ORIGINAL) != 0)
        return false;
    return decodedLength == wireguardKeyLength;
}

} // namespace vpnsteer::cli
