#include "service/dbus/vpn_object.hpp"

#include "service/dbus/boundary.hpp"
#include "service/dbus/names.hpp"

namespace vpnsteer::dbus {

VpnObject::VpnObject(sdbus::IConnection& connection, Vpn vpn, VpnActions& actions)
    : AdaptorInterfaces(connection, vpnObjectPath(vpn.name))
    , vpn_(std::move(vpn))
    , actions_(actions) {
    registerAdaptor();
}

VpnObject::~VpnObject() {
    unregisterAdaptor();
}

void VpnObject::update(Vpn vpn) {
    if (vpn == vpn_) {
        return;
    }
    std::vector<std::string> changed;
    if (vpn.id != vpn_.id) {
        changed.insert(changed.end(), {"Id", "Table", "FirewallMark"});
    }
    if (vpn.protocol != vpn_.protocol) {
        changed.push_back("Protocol");
    }
    if (vpn.bridge != vpn_.bridge) {
        changed.push_back("Bridge");
    }
    if (vpn.dns != vpn_.dns) {
        changed.push_back("Dns");
    }
    const std::string oldEndpoint = specEndpoint();
    vpn_ = std::move(vpn);
    if (specEndpoint() != oldEndpoint) {
        changed.push_back("Endpoint");
    }
    if (!changed.empty()) {
        emitPropertiesChangedSignal(vpnInterface, changed);
    }
}

void VpnObject::announceSystemWide() {
    emitPropertiesChangedSignal(vpnInterface, {"SystemWide"});
}

void VpnObject::Up() {
    atBoundary([&] { actions_.upVpn(vpn_.name); });
}

void VpnObject::Down() {
    atBoundary([&] { actions_.downVpn(vpn_.name); });
}

void VpnObject::SetTransportMode(const std::string& mode) {
    atBoundary([&] { actions_.setTransportMode(vpn_.name, mode); });
}

void VpnObject::announceTunnel(const std::vector<std::string>& properties) {
    emitPropertiesChangedSignal(vpnInterface, properties);
}

std::string VpnObject::PublicKey() {
    const auto figures = actions_.tunnelFigures(vpn_.name);
    return figures ? figures->publicKey : "";
}

std::string VpnObject::Endpoint() {
    const auto figures = actions_.tunnelFigures(vpn_.name);
    return figures && !figures->endpoint.empty() ? figures->endpoint : specEndpoint();
}

uint64_t VpnObject::LatestHandshake() {
    const auto figures = actions_.tunnelFigures(vpn_.name);
    return figures ? figures->latestHandshake : 0;
}

uint64_t VpnObject::RxBytes() {
    const auto figures = actions_.tunnelFigures(vpn_.name);
    return figures ? figures->rxBytes : 0;
}

uint64_t VpnObject::TxBytes() {
    const auto figures = actions_.tunnelFigures(vpn_.name);
    return figures ? figures->txBytes : 0;
}

std::string VpnObject::ActivePeer() {
    const auto figures = actions_.tunnelFigures(vpn_.name);
    return figures ? figures->activePeer : "";
}

std::vector<sdbus::Struct<std::string, std::string, std::string, uint64_t>> VpnObject::Peers() {
    std::vector<sdbus::Struct<std::string, std::string, std::string, uint64_t>> peers;
    if (const auto figures = actions_.tunnelFigures(vpn_.name)) {
        for (const PeerFigures& peer : figures->peers) {
            peers.emplace_back(peer.name, peer.endpoint, peer.result, peer.since);
        }
    }
    return peers;
}

std::string VpnObject::specEndpoint() const {
    if (!vpn_.peers.empty()) {
        return vpn_.peers.front().endpoint.toString();
    }
    if (vpn_.fastd && !vpn_.fastd->peers.empty() && !vpn_.fastd->peers.front().remotes.empty()) {
        return vpn_.fastd->peers.front().remotes.front().toString();
    }
    return "";
}

} // namespace vpnsteer::dbus
