// WireGuard keys as `wg` writes them: 32 bytes of Curve25519 scalar or point, in standard
// base64 with padding (44 characters). Secrets are wiped when they go out of scope.
#pragma once

#include <array>
#include <cstddef>
#include <string_view>

namespace vpnsteer::cli {

inline constexpr std::size_t wireguardKeyLength = 32;
inline constexpr std::size_t wireguardKeyBase64Length = 44;

// A key in binary form. The destructor wipes it with sodium_memzero, so a private key
// leaves no copy on the stack once the subcommand returns.
struct WireguardKey {
    std::array<unsigned char, wireguardKeyLength> bytes{};

    WireguardKey() = default;
    WireguardKey(const WireguardKey&) = delete;
    WireguardKey& operator=(const WireguardKey&) = delete;
    ~WireguardKey();
};

// A key in base64, NUL-terminated; wiped on destruction like WireguardKey.
struct WireguardKeyBase64 {
    std::array<char, wireguardKeyBase64Length + 1> text{};

    WireguardKeyBase64() = default;
    WireguardKeyBase64(const WireguardKeyBase64&) = delete;
    WireguardKeyBase64& operator=(const WireguardKeyBase64&) = delete;
    ~WireguardKeyBase64();

    std::string_view view() const { return {text.data(), wireguardKeyBase64Length}; }
};

// libsodium must be initialised once before any of the functions below; false when it
// cannot be (no usable random source).
bool initialiseSodium();

// Fills `key` with random bytes from the kernel's generator.
void generateRandomKey(WireguardKey& key);

// Clears and sets the bits RFC 7748 section 5 fixes in an X25519 scalar, as `wg genkey`
// does, so the stored private key is the scalar actually used.
void clampPrivateKey(WireguardKey& key);

// The public key (X25519 base point multiplication) of a private key. The scalar is
// clamped on the way, so an unclamped private key gives the same result as `wg pubkey`.
void derivePublicKey(const WireguardKey& privateKey, WireguardKey& publicKey);

void encodeKey(const WireguardKey& key, WireguardKeyBase64& base64);

// Accepts exactly what `wg` accepts: 44 characters of padded standard base64 encoding
// 32 bytes, with the unused low bits of the last character zero.
bool decodeKey(std::string_view base64, WireguardKey& key);

} // namespace vpnsteer::cli
