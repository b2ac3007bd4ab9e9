// A kernel WireGuard device, driven through the "wireguard" generic netlink family
// (<linux/wireguard.h>) with libnl-genl-3, as `wg` does. The message encoding and decoding
// are separate functions so that unit tests check them on a kernel without WireGuard.
#pragma once

#include "service/rules/netlink.hpp"
#include "service/wireguard/device.hpp"

#include <netlink/msg.h>
#include <string>

namespace vpnsteer::wireguard {

// Appends a WG_CMD_SET_DEVICE request for `change` on interface `name` to `message`
// (which holds no header yet), for the generic netlink family id `family`.
void encodeSetDevice(nl_msg* message, int family, std::string_view name,
                     const DeviceChange& change);
// Appends a WG_CMD_GET_DEVICE dump request for interface `name`.
void encodeGetDevice(nl_msg* message, int family, std::string_view name);
// Adds what one message of the GET_DEVICE answer says to `status`: the kernel splits a
// device with many peers (or allowed IPs) over several messages, to be coalesced.
void decodeDeviceMessage(const nlmsghdr* message, DeviceStatus& status);

class NetlinkWireguardDevice final : public WireguardDevice {
public:
    // Connects and resolves the family; throws std::system_error when the kernel has none.
    explicit NetlinkWireguardDevice(std::string name);

    void apply(const DeviceChange& change) override;
    DeviceStatus status() override;
    std::string_view kind() const override { return "kernel (generic netlink)"; }

private:
    std::string name_;
    rules::NetlinkSocketPtr socket_;
    int family_ = 0;
};

} // namespace vpnsteer::wireguard
