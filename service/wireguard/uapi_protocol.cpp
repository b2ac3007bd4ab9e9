#include "service/wireguard/uapi_protocol.hpp"

#include <cerrno>
#include <charconv>

namespace vpnsteer::wireguard {

namespace {

template <typename Number>
std::optional<Number> parseNumber(std::string_view text) {
    Number value{};
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc() || end != text.data() + text.size() || text.empty()) {
        return std::nullopt;
    }
    return value;
}

} // namespace

std::string encodeUapiSet(const DeviceChange& change) {
    std::string text = "set=1\n";
    if (change.privateKey) {
        text += "private_key=" + toHex(*change.privateKey) + "\n";
    }
    if (change.listenPort) {
        text += "listen_port=" + std::to_string(*change.listenPort) + "\n";
    }
    if (change.firewallMark) {
        text += "fwmark=" + std::to_string(*change.firewallMark) + "\n";
    }
    if (const auto& peer = change.replacePeer) {
        text += "replace_peers=true\n";
        text += "public_key=" + toHex(peer->publicKey) + "\n";
        // An absent preshared key is all zeros: none.
        text += "preshared_key=" + toHex(peer->presharedKey.value_or(WireguardKey())) + "\n";
        if (peer->endpoint) {
            text += "endpoint=" + peer->endpoint->toString() + "\n";
        }
        text += "persistent_keepalive_interval=" +
                std::to_string(peer->persistentKeepalive.value_or(0)) + "\n";
        text += "replace_allowed_ips=true\nallowed_ip=0.0.0.0/0\nallowed_ip=::/0\n";
    }
    if (const auto& update = change.updateEndpoint) {
        // update_only: a peer removed meanwhile is not brought back with this one field.
        text += "public_key=" + toHex(update->peer) + "\nupdate_only=true\n";
        text += "endpoint=" + update->endpoint.toString() + "\n";
    }
    return text + "\n";
}

UapiAnswer parseUapiAnswer(std::string_view text) {
    UapiAnswer answer;
    bool sawErrno = false;
    PeerStatus* peer = nullptr;
    while (!text.empty()) {
        const std::size_t newline = text.find('\n');
        const std::string_view line = text.substr(0, newline);
        text = newline == std::string_view::npos ? std::string_view() : text.substr(newline + 1);
        const std::size_t equals = line.find('=');
        if (equals == std::string_view::npos) {
            continue;
        }
        const std::string_view key = line.substr(0, equals);
        const std::string_view value = line.substr(equals + 1);
        if (key == "errno") {
            answer.error = parseNumber<int>(value).value_or(EPROTO);
            sawErrno = true;
        } else if (key == "private_key") {
            if (auto privateKey = decodeHexKey(value); privateKey && !privateKey->isZero()) {
                answer.status.publicKey = publicKeyOf(*privateKey);
            }
        } else if (key == "listen_port") {
            answer.status.listenPort = parseNumber<std::uint16_t>(value).value_or(0);
        } else if (key == "fwmark") {
            answer.status.firewallMark = parseNumber<std::uint32_t>(value).value_or(0);
        } else if (key == "public_key") {
            answer.status.peers.push_back(PeerStatus{});
            peer = &answer.status.peers.back();
            peer->publicKey = decodeHexKey(value).value_or(WireguardKey());
        } else if (peer == nullptr) {
            continue;
        } else if (key == "endpoint") {
            peer->endpoint = IpEndpoint::parse(value);
        } else if (key == "last_handshake_time_sec") {
            peer->latestHandshake = parseNumber<std::uint64_t>(value).value_or(0);
        } else if (key == "rx_bytes") {
            peer->rxBytes = parseNumber<std::uint64_t>(value).value_or(0);
        } else if (key == "tx_bytes") {
            peer->txBytes = parseNumber<std::uint64_t>(value).value_or(0);
        }
    }
    if (!sawErrno) {
        answer.error = EPROTO;
    }
    return answer;
}

} // namespace vpnsteer::wireguard
