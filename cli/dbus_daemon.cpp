#include "cli/dbus_daemon.hpp"

#include "service/dbus/manager_proxy.hpp"
#include "service/dbus/names.hpp"

#include <algorithm>
#include <sdbus-c++/sdbus-c++.h>
#include <utility>

namespace vpnsteer::cli {

namespace {

constexpr const char* propertiesInterface = "org.freedesktop.DBus.Properties";

class ManagerProxy final : public sdbus::ProxyInterfaces<org::vpnsteer1::Manager_proxy> {
public:
    explicit ManagerProxy(sdbus::IConnection& connection)
        : ProxyInterfaces(connection, dbus::busName, dbus::managerPath) {
        registerProxy();
    }
    ~ManagerProxy() { unregisterProxy(); }
};

template <typename Value>
void take(const std::map<std::string, sdbus::Variant>& properties, const std::string& name,
          Value& value) {
    if (auto found = properties.find(name); found != properties.end())
        value = found->second.get<Value>();
}

// One connection for the whole run; proxies borrow it. Calls are synchronous (sd_bus_call),
// so no event loop thread is started: a CLI makes a handful of calls and exits.
class DbusDaemon final : public Daemon {
public:
    explicit DbusDaemon(std::unique_ptr<sdbus::IConnection> connection)
        : connection_(std::move(connection))
        , manager_(*connection_) {}

    std::vector<VpnListing> listVpns() override {
        std::vector<VpnListing> vpns;
        // sdbus::Struct is a std::tuple without tuple_size, so no structured binding.
        for (const auto& row : manager_.ListVpns())
            vpns.push_back(
                {std::get<0>(row), std::get<1>(row), std::get<2>(row), std::get<3>(row)});
        // The XML promises id order; the CLI's output depends on it, so it does not rely on it.
        std::ranges::stable_sort(vpns, {}, &VpnListing::id);
        return vpns;
    }

    VpnStatus vpnStatus(const VpnListing& vpn) override {
        // A plain proxy rather than sdbus::Properties_proxy: that one subscribes to
        // PropertiesChanged (an AddMatch round trip per VPN) which a one-shot read never uses.
        auto proxy = sdbus::createProxy(*connection_, dbus::busName, vpn.objectPath);
        std::map<std::string, sdbus::Variant> properties;
        proxy->callMethod("GetAll")
            .onInterface(propertiesInterface)
            .withArguments(std::string(dbus::vpnInterface))
            .storeResultsTo(properties);
        return vpnStatusFromProperties(properties);
    }

    std::string systemWide() override { return manager_.SystemWide(); }
    std::string specPath() override { return manager_.SpecPath(); }
    void up(const std::string& name) override { manager_.Up(name); }
    void down(const std::string& name) override { manager_.Down(name); }
    void switchTo(const std::string& name) override { manager_.Switch(name); }

private:
    std::unique_ptr<sdbus::IConnection> connection_;
    ManagerProxy manager_;
};

} // namespace

std::unique_ptr<Daemon> connectToVpnsteerd() {
    std::unique_ptr<sdbus::IConnection> connection;
    try {
        connection = sdbus::createSystemBusConnection();
    } catch (const sdbus::Error& error) {
        // Only opening the bus fails here (ENOENT: no socket; ECONNREFUSED: a stale one).
        throw BusUnavailable(error.getMessage());
    }
    return std::make_unique<DbusDaemon>(std::move(connection));
}

VpnStatus vpnStatusFromProperties(const std::map<std::string, sdbus::Variant>& properties) {
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
    std::vector<sdbus::Struct<std::string, std::string, std::string, std::uint64_t>> peers;
    take(properties, "Peers", peers);
    for (const auto& row : peers)
        status.peers.push_back(
            {std::get<0>(row), std::get<1>(row), std::get<2>(row), std::get<3>(row)});
    return status;
}

} // namespace vpnsteer::cli
