// systemd-resolved's per-link DNS settings, as DNS-follows-the-VPN reads and writes them
// (org.freedesktop.resolve1.Link: DNS, Domains, DefaultRoute), and the interface to them.
// The real one is the D-Bus API (ResolvedLinks); unit tests use a fake.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

namespace vpnsteer::resolved {

// A search or routing domain: ("example.com", false) is a search domain, (".", true) is `~.`,
// the routing domain that routes every query to the link.
struct LinkDomain {
    std::string name;
    bool routeOnly = false;

    bool operator==(const LinkDomain&) const = default;
};

struct LinkDnsSettings {
    std::vector<std::string> servers; // addresses as inet_ntop writes them
    std::vector<LinkDomain> domains;
    bool defaultRoute = false; // as resolved applies it (its DefaultRoute property)

    bool operator==(const LinkDnsSettings&) const = default;
};

struct LinkDns {
    int ifindex = 0;
    std::string name; // the interface's name
    LinkDnsSettings settings;
};

// resolved does not own its name on the bus: the text says so, for the journal.
class ResolvedUnavailable : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class LinkDnsApi {
public:
    virtual ~LinkDnsApi() = default;

    // Every link resolved knows but loopback, in ifindex order. Throws ResolvedUnavailable, or
    // std::runtime_error naming the link.
    virtual std::vector<LinkDns> links() = 0;
    // Each throws std::runtime_error naming the link and the value.
    virtual void setServers(const LinkDns& link, const std::vector<std::string>& servers) = 0;
    virtual void setDomains(const LinkDns& link, const std::vector<LinkDomain>& domains) = 0;
    virtual void setDefaultRoute(const LinkDns& link, bool defaultRoute) = 0;
};

// Where the settings found before a VPN became system-wide are kept, so that Down restores
// them after a restart of vpnsteerd too (the file under /run/vpnsteer in production).
class SavedStateStore {
public:
    virtual ~SavedStateStore() = default;

    virtual std::string load() = 0; // "" when nothing is saved
    virtual void save(const std::string& text) = 0;
    virtual void remove() = 0;
};

} // namespace vpnsteer::resolved
