// Spec -> the text of every file vpnsteer-generator writes.
//
// Pure: these functions take values and return values. The same spec and options give
// the same bytes, file by file, in a fixed key and section order; main.cpp and
// output.cpp do the writing.
#pragma once

#include "core/spec.hpp"

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>

namespace vpnsteer::generator {

// What the output depends on besides the spec. main() fills it from the command line and
// compile-time defaults; tests fix it so that expected files do not depend on the build.
struct RenderOptions {
    std::string specPath; // named in every header and in SourcePath=
    std::string cliPath;  // the vpnsteer CLI, run by vpn-NAME.service
    // How `"implementation": "auto"` resolves: a kernel WireGuard device from a .netdev,
    // or wireguard-go.
    bool kernelHasWireguard = true;
    std::string fastdPath = "/usr/bin/fastd"; // runs the tunnel of a fastd VPN
    // Where the fastd configs go (mode 0600) and fastd's status sockets live.
    std::string fastdDir = "/run/vpnsteer/fastd";
    // vpnsteerd's state: the transport mode a user chose for a configurable fastd VPN.
    std::string stateDir = "/var/lib/vpnsteer";
    // libpacketmark.so, preloaded into systemd-timesyncd so that NTP takes the uplink.
    std::string packetmarkPath = "/usr/lib/vpnsteer/libpacketmark.so";
};

// File name -> contents. std::map keeps the order of names fixed.
using FileSet = std::map<std::string, std::string>;

// Why `options` cannot be rendered (a relative path, or a control character or final
// backslash that would break a line of a unit file), or nullopt when it can.
std::optional<std::string> renderOptionsProblem(const RenderOptions& options);

// For messages: `text` in double quotes, with control characters, quotes and backslashes
// written as \xNN so that a hostile value cannot forge a log line.
std::string quoted(std::string_view text);

// The first lines of every generated file.
std::string fileHeader(const RenderOptions& options);

// True when the VPN's WireGuard device is wireguard-go's, not the kernel's.
bool usesWireguardGo(const Vpn& vpn, const RenderOptions& options);

// vpnsteer-wireguard-go@NAME.service: the instance of the static template (units/) that
// runs the device of a userspace WireGuard VPN.
std::string wireguardGoUnitName(std::string_view vpn);

// The files of a fastd VPN in RenderOptions::fastdDir, each relative to it: NAME.conf, and
// for a configurable VPN the method lists NAME.secure.methods and NAME.performance.methods,
// one of which the unit adds according to the transport mode in force.
std::set<std::string> fastdFileNames(std::string_view vpn);
// Whether a file in fastdDir is one the generator writes (for stale-file removal).
bool isFastdFile(std::string_view fileName);

// The files for fastdDir, for every fastd VPN in `spec`.
// Throws std::invalid_argument when renderOptionsProblem(options) is set.
FileSet renderFastdFiles(const Spec& spec, const RenderOptions& options);

// The .netdev and .network files for systemd-networkd, for every VPN in `spec`.
// Throws std::invalid_argument when renderOptionsProblem(options) is set.
FileSet renderNetworkFiles(const Spec& spec, const RenderOptions& options);

// The units for the generator's normal folder: vpn-NAME.service for every VPN in `spec`
// and for each VPN in `invalidVpns` whose name is usable (so that a typo in the spec
// does not make the unit of a running VPN vanish), and vpn-NAME-fastd.service for fastd
// VPNs. A userspace WireGuard VPN's unit wants its wireguard-go instance.
// Throws std::invalid_argument when renderOptionsProblem(options) is set.
FileSet renderUnitFiles(const Spec& spec, const std::set<std::string>& invalidVpns,
                        const RenderOptions& options);

// The unit whose drop-in the generator writes, and the drop-in's name: NORMAL_DIR/
// systemd-timesyncd.service.d/50-vpnsteer.conf.
inline constexpr std::string_view timesyncdUnit = "systemd-timesyncd.service";
inline constexpr std::string_view timesyncdDropInName = "50-vpnsteer.conf";

// The drop-in that sends systemd-timesyncd's NTP packets and its lookups of server names
// through the uplink, never through a VPN (docs/gateways.md, "The clock"): libpacketmark
// with `wan`'s mark, the capability that setting a mark needs, and what
// units/vpnsteer-wan-dns.conf gives tunnel daemons.
// Throws std::invalid_argument when renderOptionsProblem(options) is set.
std::string renderTimesyncdDropIn(const WanSettings& wan, const RenderOptions& options);

// The network-folder file names of a VPN, whatever its settings: what stale-file
// removal must leave alone while the VPN is in the spec but invalid.
std::set<std::string> networkFileNames(std::string_view vpn);

} // namespace vpnsteer::generator
