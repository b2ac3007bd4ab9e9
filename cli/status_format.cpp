#include "cli/status_format.hpp"

#include <array>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string_view>

namespace vpnsteer::cli {

namespace {

std::string orNone(const std::string& value, std::string_view none) {
    return value.empty() ? std::string(none) : value;
}

std::string join(const std::vector<std::string>& items, std::string_view separator) {
    std::string joined;
    for (const std::string& item : items) {
        if (!joined.empty())
            joined.append(separator);
        joined.append(item);
    }
    return joined;
}

nlohmann::ordered_json stringOrNull(const std::string& value) {
    return value.empty() ? nlohmann::ordered_json() : nlohmann::ordered_json(value);
}

nlohmann::ordered_json timeOrNull(std::uint64_t secondsSinceEpoch) {
    return secondsSinceEpoch == 0 ? nlohmann::ordered_json()
                                  : nlohmann::ordered_json(secondsSinceEpoch);
}

// The protocol's own view of the tunnel: WireGuard's handshake, or fastd's connection.
void writeTunnelText(std::ostream& out, const VpnStatus& vpn, std::int64_t now) {
    if (vpn.protocol != "fastd") {
        out << "  public key: " << orNone(vpn.publicKey, "(unknown)") << '\n'
            << "  endpoint: " << orNone(vpn.endpoint, "(none)") << '\n'
            << "  latest handshake: " << formatHandshake(vpn.latestHandshake, now) << '\n';
        return;
    }
    out << "  transport mode: " << orNone(vpn.transportMode, "(not configurable)") << '\n'
        << "  connected peer: " << orNone(vpn.connectedPeer, "(none)") << '\n'
        << "  method: " << orNone(vpn.method, "(none)") << '\n'
        << "  endpoint: " << orNone(vpn.endpoint, "(none)") << '\n'
        << "  established: " << formatHandshake(vpn.established, now) << '\n';
}

nlohmann::ordered_json peersJson(const std::vector<PeerListing>& peers) {
    nlohmann::ordered_json rows = nlohmann::ordered_json::array();
    for (const PeerListing& peer : peers)
        rows.push_back({{"name", peer.name},
                        {"endpoint", peer.endpoint},
                        {"result", peer.result},
                        {"since", timeOrNull(peer.since)}});
    return rows;
}

} // namespace

std::string formatBytes(std::uint64_t bytes) {
    if (bytes < 1024)
        return std::to_string(bytes) + " B";
    constexpr std::array<std::string_view, 4> units{"KiB", "MiB", "GiB", "TiB"};
    double value = static_cast<double>(bytes) / 1024;
    std::size_t unit = 0;
    while (value >= 1024 && unit + 1 < units.size()) {
        value /= 1024;
        ++unit;
    }
    std::array<char, 32> text{};
    std::snprintf(text.data(), text.size(), "%.2f %s", value, units[unit].data());
    return text.data();
}

std::string formatHandshake(std::uint64_t latestHandshake, std::int64_t now) {
    if (latestHandshake == 0)
        return "never";
    if (now < 0 || latestHandshake > static_cast<std::uint64_t>(now))
        return "in the future (the system clock went backwards)";
    std::uint64_t left = static_cast<std::uint64_t>(now) - latestHandshake;
    struct Unit {
        std::string_view name;
        std::uint64_t seconds;
    };
    constexpr std::array<Unit, 5> units{Unit{"year", 365 * 24 * 3600}, Unit{"day", 24 * 3600},
                                        Unit{"hour", 3600}, Unit{"minute", 60}, Unit{"second", 1}};
    std::vector<std::string> parts;
    for (const Unit& unit : units) {
        const std::uint64_t count = left / unit.seconds;
        left %= unit.seconds;
        if (count == 0)
            continue;
        parts.push_back(std::to_string(count) + ' ' + std::string(unit.name) +
                        (count == 1 ? "" : "s"));
    }
    if (parts.empty())
        parts.emplace_back("0 seconds");
    return join(parts, ", ") + " ago";
}

void writeStatusText(std::ostream& out, const DaemonStatus& status, std::int64_t now) {
    out << "system-wide: " << orNone(status.systemWide, "none") << '\n';
    for (const VpnStatus& vpn : status.vpns) {
        out << "\nvpn: " << vpn.name << '\n'
            << "  id: " << vpn.id << '\n'
            << "  protocol: " << vpn.protocol << '\n'
            << "  interface: " << vpn.interface << '\n'
            << "  table: " << vpn.table << '\n'
            << "  fwmark: " << vpn.firewallMark << '\n'
            << "  bridge: " << vpn.bridge << '\n'
            << "  system-wide: " << (vpn.systemWide ? "yes" : "no") << '\n';
        writeTunnelText(out, vpn, now);
        out << "  transfer: " << formatBytes(vpn.rxBytes) << " received, "
            << formatBytes(vpn.txBytes) << " sent\n"
            << "  dns: " << orNone(join(vpn.dns, ", "), "(none)") << '\n';
        if (!vpn.peers.empty())
            out << "  active peer: " << orNone(vpn.activePeer, "(none)") << '\n';
        for (const PeerListing& peer : vpn.peers) {
            out << "  peer " << peer.name << ": " << peer.endpoint << ", " << peer.result;
            if (peer.since != 0)
                out << " (" << formatHandshake(peer.since, now) << ")";
            out << '\n';
        }
    }
}

std::string statusJson(const DaemonStatus& status) {
    nlohmann::ordered_json vpns = nlohmann::ordered_json::array();
    for (const VpnStatus& vpn : status.vpns) {
        vpns.push_back({
            {"name", vpn.name},
            {"id", vpn.id},
            {"protocol", vpn.protocol},
            {"interface", vpn.interface},
            {"table", vpn.table},
            {"firewallMark", vpn.firewallMark},
            {"bridge", vpn.bridge},
            {"systemWide", vpn.systemWide},
            {"publicKey", stringOrNull(vpn.publicKey)},
            {"endpoint", stringOrNull(vpn.endpoint)},
            {"latestHandshake", timeOrNull(vpn.latestHandshake)},
            {"transportMode", stringOrNull(vpn.transportMode)},
            {"connectedPeer", stringOrNull(vpn.connectedPeer)},
            {"method", stringOrNull(vpn.method)},
            {"established", timeOrNull(vpn.established)},
            {"rxBytes", vpn.rxBytes},
            {"txBytes", vpn.txBytes},
            {"dns", vpn.dns},
            {"activePeer", stringOrNull(vpn.activePeer)},
            {"peers", peersJson(vpn.peers)},
        });
    }
    nlohmann::ordered_json document{
        {"systemWide", stringOrNull(status.systemWide)},
        {"vpns", std::move(vpns)},
    };
    // D-Bus strings are UTF-8 already; `replace` only keeps a broken one from aborting the run.
    return document.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + '\n';
}

} // namespace vpnsteer::cli
