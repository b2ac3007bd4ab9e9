#include "service/wireguard/open_device.hpp"

#include "service/wireguard/netlink_device.hpp"
#include "service/wireguard/uapi_device.hpp"

#include <unistd.h>

namespace vpnsteer::wireguard {

std::unique_ptr<WireguardDevice> openDevice(const Vpn& vpn) {
    const bool userspace = vpn.implementation == WireguardImplementation::userspace ||
                           (vpn.implementation == WireguardImplementation::automatic &&
                            ::access(uapiSocketPath(vpn.name).c_str(), F_OK) == 0);
    if (userspace) {
        return std::make_unique<UapiWireguardDevice>(vpn.name);
    }
    return std::make_unique<NetlinkWireguardDevice>(vpn.name);
}

} // namespace vpnsteer::wireguard
