#include "service/resolved/resolved_links.hpp"

#include <arpa/inet.h>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <net/if.h>
#include <sdbus-c++/sdbus-c++.h>
#include <stdexcept>
#include <string_view>

namespace vpnsteer::resolved {

namespace {

constexpr const char* resolvedName = "org.freedesktop.resolve1";
constexpr const char* resolvedPath = "/org/freedesktop/resolve1";
constexpr const char* resolvedManager = "org.freedesktop.resolve1.Manager";
constexpr const char* resolvedLink = "org.freedesktop.resolve1.Link";
constexpr const char* networkdName = "org.freedesktop.network1";
constexpr const char* networkdPath = "/org/freedesktop/network1";
constexpr const char* networkdManager = "org.freedesktop.network1.Manager";
constexpr auto callTimeout = std::chrono::seconds(5);

using DnsServer = sdbus::Struct<int32_t, std::vector<uint8_t>>;
using Domain = sdbus::Struct<std::string, bool>;

struct NameIndexDeleter {
    void operator()(struct if_nameindex* list) const { if_freenameindex(list); }
};

bool isNotRunning(const sdbus::Error& error) {
    const std::string& name = error.getName();
    return name == "org.freedesktop.DBus.Error.ServiceUnknown" ||
           name == "org.freedesktop.DBus.Error.NameHasNoOwner";
}

std::string text(const sdbus::Error& error) {
    return error.getMessage() + " (" + error.getName() + ")";
}

std::string addressText(const DnsServer& server) {
    const int32_t family = server.get<0>();
    const std::vector<uint8_t>& bytes = server.get<1>();
    char text[INET6_ADDRSTRLEN] = {};
    const bool fits =
        (family == AF_INET && bytes.size() == 4) || (family == AF_INET6 && bytes.size() == 16);
    if (!fits || inet_ntop(family, bytes.data(), text, sizeof text) == nullptr) {
        return "?";
    }
    return text;
}

DnsServer serverOf(const std::string& address) {
    std::vector<uint8_t> bytes(16);
    if (inet_pton(AF_INET, address.c_str(), bytes.data()) == 1) {
        bytes.resize(4);
        return DnsServer{AF_INET, bytes};
    }
    if (inet_pton(AF_INET6, address.c_str(), bytes.data()) == 1) {
        return DnsServer{AF_INET6, bytes};
    }
    throw std::runtime_error("'" + address + "' is not an IP address");
}

std::string describe(const std::vector<std::string>& servers) {
    std::string list;
    for (const std::string& server : servers) {
        list += (list.empty() ? "" : " ") + server;
    }
    return "[" + list + "]";
}

// resolved first; for a link networkd manages, networkd (see the header).
template <typename... Arguments>
void setOnLink(sdbus::IConnection& bus, const LinkDns& link, const char* method,
               const std::string& what, const Arguments&... arguments) {
    const int32_t ifindex = link.ifindex;
    try {
        auto resolved = sdbus::createProxy(bus, resolvedName, resolvedPath);
        resolved->callMethod(method)
            .onInterface(resolvedManager)
            .withTimeout(callTimeout)
            .withArguments(ifindex, arguments...);
        return;
    } catch (const sdbus::Error& error) {
        if (isNotRunning(error)) {
            throw ResolvedUnavailable("systemd-resolved is not running (" + text(error) + ")");
        }
        if (error.getName() != "org.freedesktop.resolve1.LinkBusy") {
            throw std::runtime_error("setting " + what + " on link " + link.name +
                                     " through systemd-resolved: " + text(error));
        }
    }
    try {
        auto networkd = sdbus::createProxy(bus, networkdName, networkdPath);
        networkd->callMethod(method)
            .onInterface(networkdManager)
            .withTimeout(callTimeout)
            .withArguments(ifindex, arguments...);
    } catch (const sdbus::Error& error) {
        throw std::runtime_error("setting " + what + " on link " + link.name +
                                 " through systemd-networkd, which manages it: " + text(error));
    }
}

} // namespace

std::vector<LinkDns> ResolvedLinks::links() {
    std::unique_ptr<struct if_nameindex, NameIndexDeleter> interfaces(if_nameindex());
    if (!interfaces) {
        throw std::runtime_error("listing the network interfaces failed");
    }
    auto manager = sdbus::createProxy(bus_, resolvedName, resolvedPath);
    std::vector<LinkDns> links;
    for (const struct if_nameindex* entry = interfaces.get(); entry->if_index != 0; ++entry) {
        const std::string name = entry->if_name;
        if (name == "lo") {
            continue; // resolved keeps no DNS settings for loopback
        }
        LinkDns link{static_cast<int>(entry->if_index), name, {}};
        sdbus::ObjectPath path;
        try {
            manager->callMethod("GetLink")
                .onInterface(resolvedManager)
                .withTimeout(callTimeout)
                .withArguments(static_cast<int32_t>(link.ifindex))
                .storeResultsTo(path);
            auto object = sdbus::createProxy(bus_, resolvedName, path);
            std::map<std::string, sdbus::Variant> properties;
            object->callMethod("GetAll")
                .onInterface("org.freedesktop.DBus.Properties")
                .withTimeout(callTimeout)
                .withArguments(std::string(resolvedLink))
                .storeResultsTo(properties);
            for (const DnsServer& server : properties.at("DNS").get<std::vector<DnsServer>>()) {
                link.settings.servers.push_back(addressText(server));
            }
            for (const Domain& domain : properties.at("Domains").get<std::vector<Domain>>()) {
                link.settings.domains.push_back(LinkDomain{domain.get<0>(), domain.get<1>()});
            }
            link.settings.defaultRoute = properties.at("DefaultRoute").get<bool>();
        } catch (const sdbus::Error& error) {
            if (isNotRunning(error)) {
                throw ResolvedUnavailable("systemd-resolved is not running (" + text(error) + ")");
            }
            if (error.getName() == "org.freedesktop.resolve1.NoSuchLink") {
                continue; // it went away, or resolved has not seen it yet
            }
            throw std::runtime_error("reading link " + name +
                                     " from systemd-resolved: " + text(error));
        } catch (const std::out_of_range&) {
            throw std::runtime_error("reading link " + name +
                                     " from systemd-resolved: it lacks "
                                     "DNS, Domains or DefaultRoute");
        }
        links.push_back(std::move(link));
    }
    return links;
}

void ResolvedLinks::setServers(const LinkDns& link, const std::vector<std::string>& servers) {
    std::vector<DnsServer> values;
    for (const std::string& server : servers) {
        values.push_back(serverOf(server));
    }
    setOnLink(bus_, link, "SetLinkDNS", "DNS servers " + describe(servers), values);
}

void ResolvedLinks::setDomains(const LinkDns& link, const std::vector<LinkDomain>& domains) {
    std::vector<Domain> values;
    std::vector<std::string> names;
    for (const LinkDomain& domain : domains) {
        values.emplace_back(domain.name, domain.routeOnly);
        names.push_back((domain.routeOnly ? "~" : "") + domain.name);
    }
    setOnLink(bus_, link, "SetLinkDomains", "domains " + describe(names), values);
}

void ResolvedLinks::setDefaultRoute(const LinkDns& link, bool defaultRoute) {
    setOnLink(bus_, link, "SetLinkDefaultRoute",
              std::string("DefaultRoute=") + (defaultRoute ? "yes" : "no"), defaultRoute);
}

} // namespace vpnsteer::resolved
