// A network namespace on a VPN's bridge, for `vpnsteer exec NAME -- CMD` (docs/exec.md): what
// it is made of, as values. cli/namespace_launcher.hpp makes it in the kernel.
//
// The namespace's address comes from the bridge's subnet 10.20.ID.0/24, in a range of its own
// (.128 to .254): .1 is the bridge, and the low half is left to containers and namespaces an
// admin plugs in by hand (the lab's app namespace is .2). Each address is taken under a lock,
// so two execs never share one.
#pragma once

#include "cli/command_user.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace vpnsteer::cli {

// The host numbers exec takes addresses from, in 10.20.ID.0/24.
inline constexpr unsigned firstExecHost = 128;
inline constexpr unsigned lastExecHost = 254;

// Everything the launcher needs; built by cli/exec.cpp from vpnsteerd's answer.
struct BridgeNamespaceRequest {
    std::string vpnName{};
    std::uint32_t vpnId = 0;
    std::string bridge{};
    std::vector<std::string> dns{}; // the VPN's DNS servers, for the namespace's resolv.conf
    CommandUser user{};
    std::vector<std::string> command{}; // argv, never empty

    bool operator==(const BridgeNamespaceRequest&) const = default;
};

// "10.20.ID.HOST": one address of the bridge's subnet.
std::string bridgeSubnetAddress(std::uint32_t vpnId, unsigned host);

// The bridge's end of the veth of address HOST: "vx<ID>-<HOST>" (at most 8 characters, well
// below IFNAMSIZ). Named after the address so a namespace that outlived its exec (a command's
// child kept it) still shows as taken.
std::string execVethName(std::uint32_t vpnId, unsigned host);

// The namespace's /etc/resolv.conf: the VPN's servers, in the spec's order. glibc reads at
// most three (resolv.conf(5)); the rest are kept as comments so nobody wonders where they went.
std::string execResolvConf(const std::string& vpnName, const std::vector<std::string>& dns);

} // namespace vpnsteer::cli
