#include "cli/dbus_daemon.hpp"

#include "cli/system_bus.hpp"
#include "service/dbus/names.hpp"

#include <algorithm>
#include <sdbus-c++/Error.h>

namespace vpnsteer::cli {

namespace {

constexpr const char* propertiesInterface = "org.freedesktop.DBus.Properties";

template <typename Value>
void take(const std::map<std::string, BusValue>& properties, const std::string& name,
          Value& value) {
    if (auto found = properties.find(name); found != properties.end())
        value = found->second.as<Value>();
}

// The one value a reply must carry, of the type `signature`.
const BusValue& onlyValue(const std::vector<BusValue>& body, const char* signature) {
    if (body.size() != 1 || body.front().signature() != signature) {
        throw sdbus::Error("org.freedesktop.DBus.Error.InvalidSignature",
                           std::string("vpnsteerd answered with something other than '") +
                               signature + "'");
    }
    return body.front();
}

// One connection for the whole run, and one round trip per call: up, down and switch make
// exactly one (the bus's Hello travels with it).
class DbusDaemon final : public Daemon {
public:
    std::vector<VpnListing> listVpns() override {
        std::vector<VpnListing> vpns;
        // Kept in a variable: a range-for keeps only its outermost temporary alive (C++20).
        const std::vector<BusValue> body = manager("ListVpns");
        for (const BusValue& row : onlyValue(body, "a(suob)").items()) {
            const BusValue::Items& fields = row.items();
            vpns.push_back({fields[0].asString(), fields[1].asUint32(), fields[2].asString(),
                            fields[3].asBool()});
        }
        // The XML promises id order; the CLI's output depends on it, so it does not rely on it.
        std::ranges::stable_sort(vpns, {}, &VpnListing::id);
        return vpns;
    }

    VpnStatus vpnStatus(const VpnListing& vpn) override {
        const std::vector<BusValue> body = bus_.call({.destination = dbus::busName,
                                                      .path = vpn.objectPath,
                                                      .interface = propertiesInterface,
                                                      .member = "GetAll",
                                                      .arguments = {dbus::vpnInterface}});
        std::map<std::string, BusValue> properties;
        for (const BusValue& entry : onlyValue(body, "a{sv}").items())
            properties.emplace(entry.items()[0].asString(), entry.items()[1].items().front());
        return vpnStatusFromProperties(properties);
    }

    std::string systemWide() override { return managerProperty("SystemWide"); }
    std::string specPath() override { return managerProperty("SpecPath"); }
    void up(const std::string& name) override { manager("Up", {name}); }
    void down(const std::string& name) override { manager("Down", {name}); }
    void switchTo(const std::string& name) override { manager("Switch", {name}); }

private:
    std::vector<BusValue> manager(const char* method, std::vector<std::string> arguments = {}) {
        return bus_.call({.destination = dbus::busName,
                          .path = dbus::managerPath,
                          .interface = dbus::managerInterface,
                          .member = method,
                          .arguments = std::move(arguments)});
    }

    std::string managerProperty(const char* name) {
        const std::vector<BusValue> body = bus_.call({.destination = dbus::busName,
                                                      .path = dbus::managerPath,
                                                      .interface = propertiesInterface,
                                                      .member = "Get",
                                                      .arguments = {dbus::managerInterface, name}});
        return onlyValue(body, "v").items().front().asString();
    }

    SystemBus bus_;
};

} // namespace

std::unique_ptr<Daemon> connectToVpnsteerd() {
    return std::make_unique<DbusDaemon>();
}

VpnStatus vpnStatusFromProperties(const std::map<std::string, BusValue>& properties) {
    VpnStatus status;
    take(properties, "Name", status.name);
    take(properties, "Id", status.id);
    take(properties, "Protocol", status.protocol);
    take(properties, "Interface", status.interface);
    take(properties, "Table", status.table);
    take(properties, "FirewallMark", status.firewallMark);
    take(properties, "Bridge", status.bridge);
    take(properties, "SystemWide", status.systemWide);
    take(properties, "PublicKey", status.publicKey);
    take(properties, "Endpoint", status.endpoint);
    take(properties, "LatestHandshake", status.latestHandshake);
    take(properties, "RxBytes", status.rxBytes);
    take(properties, "TxBytes", status.txBytes);
    take(properties, "Dns", status.dns);
    take(properties, "ActivePeer", status.activePeer);
    take(properties, "TransportMode", status.transportMode);
    take(properties, "ConnectedPeer", status.connectedPeer);
    take(properties, "Method", status.method);
    take(properties, "Established", status.established);
    if (auto peers = properties.find("Peers"); peers != properties.end()) {
        if (peers->second.signature() != "a(ssst)")
            throw sdbus::Error("org.freedesktop.DBus.Error.InvalidSignature",
                               "vpnsteerd's Peers is '" + peers->second.signature() +
                                   "', not 'a(ssst)'");
        for (const BusValue& row : peers->second.items()) {
            const BusValue::Items& fields = row.items();
            status.peers.push_back({fields[0].asString(), fields[1].asString(),
                                    fields[2].asString(), fields[3].asUint64()});
        }
    }
    return status;
}

} // namespace vpnsteer::cli
