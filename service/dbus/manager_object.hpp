// /org/vpnsteer1: the org.vpnsteer1.Manager interface, the spec in force, and one VpnObject
// per VPN of it.
#pragma once

#include "core/spec.hpp"
#include "service/dbus/manager_adaptor.hpp"
#include "service/dbus/vpn_object.hpp"
#include "service/rules/system_wide_rules.hpp"

#include <functional>
#include <map>
#include <memory>
#include <sdbus-c++/sdbus-c++.h>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace vpnsteer::dbus {

// Reads the spec file (in production, readSpecFile on the --spec path).
using SpecLoader = std::function<ParseResult()>;
// Where the manager reports what it did: a syslog priority (LOG_INFO, LOG_WARNING...) and
// the text. The daemon's main decides where that goes.
using Journal = std::function<void(int priority, std::string_view text)>;

// A part of vpnsteerd that follows the spec in force and the VPN carrying the host, besides
// the rules: bridge SNAT (service/nat), DNS (service/resolved). The manager calls it after
// every change; it makes its system match, reports what it did, and never throws. Its
// failures are journalled but do not fail the D-Bus call: the rules are in force regardless.
class SpecFollower {
public:
    virtual ~SpecFollower() = default;
    // After start and every Reload, with the spec now in force.
    virtual rules::KernelReport specApplied(const Spec&) { return {}; }
    // After start, Reload, Up, Down and Switch: the VPN now carrying the host, or nullptr.
    virtual rules::KernelReport carrierChanged(const Vpn*) { return {}; }
};

class ManagerObject final
    : public sdbus::AdaptorInterfaces<org::vpnsteer1::Manager_adaptor, sdbus::Properties_adaptor>,
      private VpnActions {
public:
    ManagerObject(sdbus::IConnection& connection, rules::SystemWideRules& rules,
                  SpecLoader loadSpec, std::string specPath, Journal journal);
    ~ManagerObject();
    ManagerObject(const ManagerObject&) = delete;
    ManagerObject& operator=(const ManagerObject&) = delete;

    // The first load. A spec with errors still serves its valid VPNs (each error is
    // journalled), and then nothing vpnsteerd's own that the spec does not explain is removed.
    void start();
    // What SIGHUP does: Reload, with the errors journalled instead of returned.
    void reloadFromSignal();
    // Where the VPN objects read their tunnels' live figures (before start()), asked in the
    // order added; each must outlive the manager.
    void addTunnelFigures(TunnelFiguresSource& source) { tunnelFigures_.push_back(&source); }
    // Who carries out SetTransportMode (service/fastd); it must outlive the manager.
    void setTransportModeControl(TransportModeControl& control) { transportModes_ = &control; }
    // Emits PropertiesChanged on VPN `name`'s object for the live `properties` that changed.
    // Never throws.
    void announceTunnel(const std::string& name,
                        const std::vector<std::string>& properties) noexcept;
    // Adds a follower (before start()); it must outlive the manager.
    void addFollower(SpecFollower& follower) { followers_.push_back(&follower); }

private:
    // org.vpnsteer1.Manager
    std::vector<sdbus::Struct<std::string, uint32_t, sdbus::ObjectPath, bool>> ListVpns() override;
    void Up(const std::string& name) override;
    void Down(const std::string& name) override;
    void Switch(const std::string& name) override;
    void Reload() override;
    std::string SystemWide() override { return rules_.carrier(); }
    std::string SpecPath() override { return specPath_; }

    // VpnActions
    void upVpn(const std::string& name) override;
    void downVpn(const std::string& name) override;
    bool isSystemWide(const std::string& name) const override { return rules_.isSystemWide(name); }
    std::optional<TunnelFigures> tunnelFigures(const std::string& name) override;
    void setTransportMode(const std::string& name, const std::string& mode) override;

    struct Snapshot {
        std::string carrier;
        std::set<std::string> systemWide;
    };
    Snapshot snapshot() const;
    // Emits PropertiesChanged for every SystemWide that differs from `before`. Never throws.
    void announce(const Snapshot& before) noexcept;

    // The VPN called `name` in the spec in force; throws InvalidArgument or UnknownVpn.
    const Vpn& findVpn(const std::string& name) const;
    // Runs a change of the system-wide set, journals it, and announces what changed.
    template <typename Change>
    void changeSystemWide(std::string_view what, Change&& change);
    // Puts `spec` in force and makes objects and kernel match it. Returns the kernel failures.
    std::vector<std::string> applySpec(Spec spec, bool removeUnexplained);
    void journal(int priority, std::string_view text) const;
    void journal(const rules::KernelReport& report) const;
    // Tells every follower the carrier, and journals what they did.
    void followCarrier() noexcept;

    rules::SystemWideRules& rules_;
    SpecLoader loadSpec_;
    std::string specPath_;
    Journal journal_;
    sdbus::IConnection& connection_;
    Spec spec_;
    std::map<std::string, std::unique_ptr<VpnObject>> vpns_;
    std::vector<SpecFollower*> followers_;
    std::vector<TunnelFiguresSource*> tunnelFigures_;
    TransportModeControl* transportModes_ = nullptr;
};

} // namespace vpnsteer::dbus
