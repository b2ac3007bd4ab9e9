// The names vpnsteerd's D-Bus API is made of, shared by the daemon and its clients (the CLI
// links the vpnsteer-dbus-proxy library, which carries this header).
#pragma once

#include <string>
#include <string_view>

namespace vpnsteer::dbus {

inline constexpr const char* busName = "org.vpnsteer1";
inline constexpr const char* managerPath = "/org/vpnsteer1";
inline constexpr const char* vpnPathPrefix = "/org/vpnsteer1/vpn";
inline constexpr const char* managerInterface = "org.vpnsteer1.Manager";
inline constexpr const char* vpnInterface = "org.vpnsteer1.Vpn";

namespace errors {
// The spec has no VPN of that name.
inline constexpr const char* unknownVpn = "org.vpnsteer1.Error.UnknownVpn";
// An argument is empty or malformed.
inline constexpr const char* invalidArgument = "org.vpnsteer1.Error.InvalidArgument";
// Reload found errors in the spec; the old one stays in force.
inline constexpr const char* invalidSpec = "org.vpnsteer1.Error.InvalidSpec";
// SetTransportMode on a fastd VPN whose spec does not say "configurable": true.
inline constexpr const char* notConfigurable = "org.vpnsteer1.Error.NotConfigurable";
// A call that the VPN's protocol has no use for (SetTransportMode on WireGuard).
inline constexpr const char* wrongProtocol = "org.vpnsteer1.Error.WrongProtocol";
// The kernel refused a change; the message names it.
inline constexpr const char* failed = "org.vpnsteer1.Error.Failed";
// Not ours: what dbus-daemon answers when the policy (units/org.vpnsteer1.conf) refuses a call.
inline constexpr const char* accessDenied = "org.freedesktop.DBus.Error.AccessDenied";
} // namespace errors

// The object path of the VPN called `name`. Object paths allow only [A-Za-z0-9_] in an
// element, and VPN names may hold '-' and '.', so the name is escaped as
// sd_bus_path_encode() does: "us-west" is /org/vpnsteer1/vpn/us_2dwest.
std::string vpnObjectPath(std::string_view name);

// The VPN name in a path made by vpnObjectPath(), or "" for any other path.
std::string vpnNameFromObjectPath(std::string_view path);

} // namespace vpnsteer::dbus
