// WireGuard keys for vpnsteerd: 32 bytes, read from the base64 files `wg genkey` writes,
// shown in base64 (D-Bus) and in hex (the UAPI text protocol). Wiped on destruction, so a
// private key leaves no copy behind once it has been handed to the device.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace vpnsteer::wireguard {

struct WireguardKey {
    std::array<std::uint8_t, 32> bytes{};

    WireguardKey() = default;
    WireguardKey(const WireguardKey&) = default;
    WireguardKey& operator=(const WireguardKey&) = default;
    ~WireguardKey();

    bool operator==(const WireguardKey& other) const { return bytes == other.bytes; }
    bool isZero() const;
};

// Exactly what `wg` accepts: 44 characters of padded standard base64 encoding 32 bytes.
std::optional<WireguardKey> decodeBase64Key(std::string_view base64);
std::optional<WireguardKey> decodeHexKey(std::string_view hex);
std::string toBase64(const WireguardKey& key);
std::string toHex(const WireguardKey& key);

// The X25519 public key of a private key (libsodium's crypto_scalarmult_curve25519_base),
// clamped as WireGuard clamps it, so the result is what `wg pubkey` prints.
WireguardKey publicKeyOf(const WireguardKey& privateKey);

// Reads a key file (a base64 key and optional trailing white space, as `wg genkey` writes
// it). Throws std::system_error naming the file when it cannot be read or holds no key.
WireguardKey readKeyFile(const std::string& path);

} // namespace vpnsteer::wireguard
