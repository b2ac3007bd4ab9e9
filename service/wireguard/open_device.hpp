// Chooses a VPN's WireGuard implementation: "kernel" and "userspace" as the spec says;
// "automatic" by what exists, as `wg` does: wireguard-go's UAPI socket if there is one,
// else the kernel's generic netlink family.
#pragma once

#include "core/spec.hpp"
#include "service/wireguard/device.hpp"

#include <memory>

namespace vpnsteer::wireguard {

std::unique_ptr<WireguardDevice> openDevice(const Vpn& vpn); // throws std::system_error

} // namespace vpnsteer::wireguard
