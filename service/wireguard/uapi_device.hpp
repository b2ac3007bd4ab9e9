// A wireguard-go device, driven through its UAPI socket (uapi_protocol.hpp). Each call
// opens the socket afresh, as `wg` does: wireguard-go may have been restarted in between.
#pragma once

#include "service/wireguard/device.hpp"

#include <string>

namespace vpnsteer::wireguard {

// wireguard-go's folder for the sockets (ipc/uapi_linux.go); the same for every network
// namespace of a mount namespace.
inline constexpr std::string_view uapiSocketFolder = "/var/run/wireguard";

// The socket of interface `name` in `folder`.
std::string uapiSocketPath(std::string_view name, std::string_view folder = uapiSocketFolder);

class UapiWireguardDevice final : public WireguardDevice {
public:
    explicit UapiWireguardDevice(std::string name,
                                 std::string folder = std::string(uapiSocketFolder));

    void apply(const DeviceChange& change) override;
    DeviceStatus status() override;
    std::string_view kind() const override { return "wireguard-go (UAPI)"; }

private:
    // Sends `request` and returns the answer up to its final empty line. Throws.
    std::string exchange(std::string_view request, const std::string& what);

    std::string name_;
    std::string socketPath_;
};

} // namespace vpnsteer::wireguard
