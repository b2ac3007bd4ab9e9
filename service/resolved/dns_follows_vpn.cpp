#include "service/resolved/dns_follows_vpn.hpp"

#include <exception>
#include <nlohmann/json.hpp>
#include <vector>

namespace vpnsteer::resolved {

namespace {

using nlohmann::json;

std::string describe(const LinkDnsSettings& settings) {
    std::string servers;
    for (const std::string& server : settings.servers) {
        servers += (servers.empty() ? "" : " ") + server;
    }
    std::string domains;
    for (const LinkDomain& domain : settings.domains) {
        domains +=
            (domains.empty() ? "" : " ") + std::string(domain.routeOnly ? "~" : "") + domain.name;
    }
    return "servers [" + servers + "], domains [" + domains + "], default route " +
           (settings.defaultRoute ? "yes" : "no");
}

// What a link that does not carry the VPN should have: the link of the VPN that carried the
// host gets its own servers and domains back; any other link keeps what it has now (servers
// that DHCP changed meanwhile, say), for only its default route was ours.
LinkDnsSettings wantedBack(const LinkDns& link, const LinkDnsSettings& before,
                           const std::string& formerCarrier, bool defaultRoute) {
    LinkDnsSettings wanted = link.name == formerCarrier ? before : link.settings;
    wanted.defaultRoute = defaultRoute;
    return wanted;
}

constexpr const char* unavailableConsequence =
    "; DNS does not follow the VPN (queries go where resolved sends them), the rules are in "
    "force";

} // namespace

std::string toJson(const SavedDns& saved) {
    json links = json::object();
    for (const auto& [name, settings] : saved.before) {
        json domains = json::array();
        for (const LinkDomain& domain : settings.domains) {
            domains.push_back({{"name", domain.name}, {"routeOnly", domain.routeOnly}});
        }
        links[name] = {{"servers", settings.servers},
                       {"domains", domains},
                       {"defaultRoute", settings.defaultRoute}};
    }
    return json{{"vpn", saved.vpn}, {"links", links}}.dump(2) + "\n";
}

SavedDns savedDnsFromJson(const std::string& text) {
    try {
        const json document = json::parse(text);
        SavedDns saved;
        saved.vpn = document.at("vpn").get<std::string>();
        for (const auto& [name, link] : document.at("links").items()) {
            LinkDnsSettings settings;
            settings.servers = link.at("servers").get<std::vector<std::string>>();
            for (const json& domain : link.at("domains")) {
                settings.domains.push_back(LinkDomain{domain.at("name").get<std::string>(),
                                                      domain.at("routeOnly").get<bool>()});
            }
            settings.defaultRoute = link.at("defaultRoute").get<bool>();
            saved.before.emplace(name, std::move(settings));
        }
        return saved;
    } catch (const json::exception& error) {
        throw std::runtime_error(std::string("not a saved DNS state: ") + error.what());
    }
}

std::optional<SavedDns> DnsFollowsVpn::loadSaved(rules::KernelReport& report) {
    const std::string text = store_.load();
    if (text.empty()) {
        return std::nullopt;
    }
    try {
        return savedDnsFromJson(text);
    } catch (const std::exception& error) {
        report.failures.push_back(std::string("DNS: the saved settings are unreadable (") +
                                  error.what() + "), ignoring them");
        return std::nullopt;
    }
}

void DnsFollowsVpn::converge(const LinkDns& link, const LinkDnsSettings& wanted,
                             rules::KernelReport& report) {
    if (link.settings == wanted) {
        return;
    }
    try {
        // Servers and domains before the default route: a link that takes every query has
        // its servers by then, and one that gives them up still has its own.
        if (link.settings.servers != wanted.servers) {
            links_.setServers(link, wanted.servers);
        }
        if (link.settings.domains != wanted.domains) {
            links_.setDomains(link, wanted.domains);
        }
        if (link.settings.defaultRoute != wanted.defaultRoute) {
            links_.setDefaultRoute(link, wanted.defaultRoute);
        }
        report.changes.push_back("DNS: link " + link.name + " now has " + describe(wanted));
    } catch (const std::exception& error) {
        report.failures.push_back(std::string("DNS: ") + error.what());
    }
}

rules::KernelReport DnsFollowsVpn::restore(const SavedDns& saved) {
    rules::KernelReport report;
    for (const LinkDns& link : links_.links()) {
        if (auto found = saved.before.find(link.name); found != saved.before.end()) {
            converge(link, wantedBack(link, found->second, saved.vpn, found->second.defaultRoute),
                     report);
        }
    }
    if (report.failures.empty()) {
        store_.remove();
    } else {
        report.failures.push_back("DNS: the saved settings stay, to be restored at the next "
                                  "change");
    }
    return report;
}

rules::KernelReport DnsFollowsVpn::follow(const Vpn* carrier) {
    rules::KernelReport report;
    try {
        std::optional<SavedDns> saved = loadSaved(report);
        if (carrier == nullptr) {
            if (saved) {
                report.merge(restore(*saved));
            }
            return report;
        }
        const std::vector<LinkDns> links = links_.links();
        SavedDns state = saved.value_or(SavedDns{});
        for (const LinkDns& link : links) {
            // What is saved already is from before; what a link shows now may be ours.
            state.before.try_emplace(link.name, link.settings);
        }
        state.vpn = carrier->name;
        if (!saved || *saved != state) {
            store_.save(toJson(state));
        }

        const LinkDns* own = nullptr;
        for (const LinkDns& link : links) {
            if (link.name == carrier->name) {
                own = &link;
            }
        }
        if (own == nullptr) {
            report.failures.push_back("DNS: systemd-resolved does not know " + carrier->name +
                                      "'s link " + carrier->name +
                                      " (is the tunnel up?); the other links keep their DNS");
            return report;
        }
        // The VPN's link first: its `~.` takes every query from the links that merely have a
        // default route, so there is no instant at which a query may go to the uplink.
        converge(*own, LinkDnsSettings{carrier->dns, {LinkDomain{".", true}}, true}, report);
        const std::string previous = saved ? saved->vpn : "";
        for (const LinkDns& link : links) {
            if (&link != own) {
                converge(link, wantedBack(link, state.before.at(link.name), previous, false),
                         report);
            }
        }
    } catch (const ResolvedUnavailable& error) {
        report.failures.push_back(std::string("DNS: ") + error.what() + unavailableConsequence);
    } catch (const std::exception& error) {
        report.failures.push_back(std::string("DNS: ") + error.what());
    }
    return report;
}

} // namespace vpnsteer::resolved
