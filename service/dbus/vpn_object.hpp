// /org/vpnsteer1/vpn/NAME: one VPN of the spec, with the org.vpnsteer1.Vpn interface.
#pragma once

#include "core/spec.hpp"
#include "service/dbus/tunnel_figures.hpp"
#include "service/dbus/vpn_adaptor.hpp"

#include <optional>
#include <sdbus-c++/sdbus-c++.h>
#include <string>
#include <vector>

namespace vpnsteer::dbus {

// What a VPN object asks of the manager, which owns the system-wide state.
class VpnActions {
public:
    // Each throws sdbus::Error.
    virtual void upVpn(const std::string& name) = 0;
    virtual void downVpn(const std::string& name) = 0;
    virtual bool isSystemWide(const std::string& name) const = 0;
    // The tunnel's live figures, or nullopt when nothing keeps them. Never throws.
    virtual std::optional<TunnelFigures> tunnelFigures(const std::string& name) = 0;
    // Throws sdbus::Error.
    virtual void setTransportMode(const std::string& name, const std::string& mode) = 0;

protected:
    ~VpnActions() = default;
};

class VpnObject final
    : public sdbus::AdaptorInterfaces<org::vpnsteer1::Vpn_adaptor, sdbus::Properties_adaptor> {
public:
    VpnObject(sdbus::IConnection& connection, Vpn vpn, VpnActions& actions);
    ~VpnObject();
    VpnObject(const VpnObject&) = delete;
    VpnObject& operator=(const VpnObject&) = delete;

    const Vpn& vpn() const { return vpn_; }
    // Takes the spec's new entry for this VPN (same name) and announces what changed.
    void update(Vpn vpn);
    void announceSystemWide();
    // Emits PropertiesChanged for the named live properties (PublicKey, Endpoint,
    // ActivePeer, Peers).
    void announceTunnel(const std::vector<std::string>& properties);

private:
    void Up() override;
    void Down() override;
    std::string Name() override { return vpn_.name; }
    uint32_t Id() override { return static_cast<uint32_t>(vpn_.id); }
    std::string Protocol() override { return std::string(toString(vpn_.protocol)); }
    std::string Interface() override { return vpn_.name; }
    uint32_t Table() override { return vpn_.routingTable(); }
    uint32_t FirewallMark() override { return vpn_.firewallMark(); }
    std::string Bridge() override { return vpn_.bridge; }
    bool SystemWide() override { return actions_.isSystemWide(vpn_.name); }
    // The tunnel's live figures come from service/wireguard (TunnelFiguresSource); without
    // them the Endpoint is the spec's.
    std::string PublicKey() override;
    std::string Endpoint() override;
    uint64_t LatestHandshake() override;
    uint64_t RxBytes() override;
    uint64_t TxBytes() override;
    std::string ActivePeer() override;
    std::vector<sdbus::Struct<std::string, std::string, std::string, uint64_t>> Peers() override;
    std::string specEndpoint() const;
    std::vector<std::string> Dns() override { return vpn_.dns; }
    void SetTransportMode(const std::string& mode) override;
    std::string TransportMode() override { return figures().transportMode; }
    std::string ConnectedPeer() override { return figures().connectedPeer; }
    std::string Method() override { return figures().method; }
    uint64_t Established() override { return figures().established; }
    TunnelFigures figures() { return actions_.tunnelFigures(vpn_.name).value_or(TunnelFigures{}); }

    Vpn vpn_;
    VpnActions& actions_;
};

} // namespace vpnsteer::dbus
