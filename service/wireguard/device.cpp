#include "service/wireguard/device.hpp"

#include <arpa/inet.h>
#include <charconv>
#include <sys/socket.h>

namespace vpnsteer::wireguard {

std::string IpEndpoint::toString() const {
    char text[INET6_ADDRSTRLEN] = "";
    inet_ntop(family, address.data(), text, sizeof text);
    const std::string port = std::to_string(this->port);
    return family == AF_INET6 ? "[" + std::string(text) + "]:" + port
                              : std::string(text) + ":" + port;
}

std::optional<IpEndpoint> IpEndpoint::fromLiteral(std::string_view address, std::uint16_t port) {
    const std::string text(address);
    IpEndpoint endpoint;
    endpoint.port = port;
    if (inet_pton(AF_INET, text.c_str(), endpoint.address.data()) == 1) {
        endpoint.family = AF_INET;
    } else if (inet_pton(AF_INET6, text.c_str(), endpoint.address.data()) == 1) {
        endpoint.family = AF_INET6;
    } else {
        return std::nullopt;
    }
    return endpoint;
}

std::optional<IpEndpoint> IpEndpoint::parse(std::string_view text) {
    const std::size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) {
        return std::nullopt;
    }
    std::string_view host = text.substr(0, colon);
    const std::string_view portText = text.substr(colon + 1);
    std::uint16_t port = 0;
    const auto [end, error] =
        std::from_chars(portText.data(), portText.data() + portText.size(), port);
    if (error != std::errc() || end != portText.data() + portText.size() || portText.empty()) {
        return std::nullopt;
    }
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
        auto endpoint = fromLiteral(host, port);
        return endpoint && endpoint->family == AF_INET6 ? endpoint : std::nullopt;
    }
    auto endpoint = fromLiteral(host, port);
    return endpoint && endpoint->family == AF_INET ? endpoint : std::nullopt;
}

const PeerStatus* DeviceStatus::findPeer(const WireguardKey& key) const {
    for (const PeerStatus& peer : peers) {
        if (peer.publicKey == key) {
            return &peer;
        }
    }
    return nullptr;
}

void WireguardDevice::setPrivateKey(const WireguardKey& key) {
    DeviceChange change;
    change.privateKey = key;
    apply(change);
}

void WireguardDevice::setFirewallMark(std::uint32_t mark) {
    DeviceChange change;
    change.firewallMark = mark;
    apply(change);
}

void WireguardDevice::setListenPort(std::uint16_t port) {
    DeviceChange change;
    change.listenPort = port;
    apply(change);
}

void WireguardDevice::replacePeer(const PeerSettings& peer) {
    DeviceChange change;
    change.replacePeer = peer;
    apply(change);
}

void WireguardDevice::updateEndpoint(const WireguardKey& peer, const IpEndpoint& endpoint) {
    DeviceChange change;
    change.updateEndpoint = DeviceChange::EndpointUpdate{peer, endpoint};
    apply(change);
}

} // namespace vpnsteer::wireguard
