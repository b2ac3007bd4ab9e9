// A WireGuard device as vpnsteerd drives it: its private key, firewall mark, listen port and
// its single active peer, and the figures it reports. Two implementations: wireguard-go's
// UAPI socket (uapi_device.hpp) and the kernel's generic netlink family (netlink_device.hpp).
// Unit tests use fakes.
#pragma once

#include "service/wireguard/key.hpp"

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vpnsteer::wireguard {

// A peer's endpoint: an IP address (no name) and a port.
struct IpEndpoint {
    int family = 0; // AF_INET or AF_INET6
    std::array<std::uint8_t, 16> address{};
    std::uint16_t port = 0;

    // "192.0.2.1:51820" or "[2001:db8::1]:51820": what `wg` and the UAPI write.
    std::string toString() const;
    // The same forms back; nullopt for anything else.
    static std::optional<IpEndpoint> parse(std::string_view text);
    // An address literal (without brackets) and a port.
    static std::optional<IpEndpoint> fromLiteral(std::string_view address, std::uint16_t port);
    bool operator==(const IpEndpoint&) const = default;
};

// The one peer of a vpnsteer tunnel. Its allowed IPs are always 0.0.0.0/0 and ::/0: the
// VPN's routing table decides what enters the tunnel.
struct PeerSettings {
    WireguardKey publicKey;
    std::optional<IpEndpoint> endpoint;
    std::optional<WireguardKey> presharedKey;
    std::optional<std::uint16_t> persistentKeepalive; // seconds; 0 turns it off
};

// One change of the device, applied in a single transaction. Unset fields stay as they are.
struct DeviceChange {
    std::optional<WireguardKey> privateKey;
    std::optional<std::uint32_t> firewallMark;
    std::optional<std::uint16_t> listenPort;
    // Removes every other peer, and sets this one up from scratch.
    std::optional<PeerSettings> replacePeer;
    // Moves an existing peer to another endpoint, leaving its session alone; nothing
    // happens when the device has no such peer.
    struct EndpointUpdate {
        WireguardKey peer;
        IpEndpoint endpoint;
    };
    std::optional<EndpointUpdate> updateEndpoint;
};

struct PeerStatus {
    WireguardKey publicKey;
    std::optional<IpEndpoint> endpoint;
    std::uint64_t latestHandshake = 0; // seconds since the epoch; 0 for never
    std::uint64_t rxBytes = 0;
    std::uint64_t txBytes = 0;
};

struct DeviceStatus {
    std::optional<WireguardKey> publicKey; // none while the device has no private key
    std::uint16_t listenPort = 0;
    std::uint32_t firewallMark = 0;
    std::vector<PeerStatus> peers;

    const PeerStatus* findPeer(const WireguardKey& publicKey) const;
};

class WireguardDevice {
public:
    virtual ~WireguardDevice() = default;

    // Each throws std::system_error naming the device and what was tried.
    virtual void apply(const DeviceChange& change) = 0;
    virtual DeviceStatus status() = 0;
    // "wireguard-go (UAPI)" or "kernel (generic netlink)", for messages.
    virtual std::string_view kind() const = 0;

    void setPrivateKey(const WireguardKey& key);
    void setFirewallMark(std::uint32_t mark);
    void setListenPort(std::uint16_t port);
    void replacePeer(const PeerSettings& peer);
    void updateEndpoint(const WireguardKey& peer, const IpEndpoint& endpoint);
};

} // namespace vpnsteer::wireguard
