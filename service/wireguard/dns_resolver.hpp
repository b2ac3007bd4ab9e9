// Resolves endpoint host names through the uplink (issue 4 item 3), on vpnsteerd's event
// loop. Its UDP sockets carry the WAN mark (SO_MARK), so the rule `fwmark WANMARK lookup
// main` (priority 80) sends the queries out of the real uplink even while a VPN is
// system-wide, and whatever a VPN's tunnel does cannot stop the tunnel from finding its peer.
//
// The servers asked, in order of preference:
// 1. the spec's wan.dns.servers;
// 2. otherwise the uplink's servers as systemd-resolved holds them for the links that are not
//    vpnsteer's (the WAN DNS forwarder follows them: service/wandns/uplink_servers.hpp);
// 3. without resolved, the `nameserver` lines of /etc/resolv.conf, leaving out loopback
//    addresses: a local stub resolves through whatever carries the host, which is the VPN
//    when one is system-wide, and a dead VPN could then never find its moved peer.
// Each server gets 2 s for both questions (A and AAAA), then the next is asked.
#pragma once

#include "core/spec.hpp"
#include "service/dbus/bus_event_source.hpp"
#include "service/wireguard/endpoint_resolver.hpp"

#include <functional>
#include <list>
#include <memory>
#include <netinet/in.h>
#include <string>
#include <systemd/sd-event.h>
#include <vector>

namespace vpnsteer::wireguard {

struct DnsServer {
    sockaddr_storage address{};
    socklen_t length = 0;
    std::string text;
};

// The nameserver lines of a resolv.conf text, loopback ones left out, port 53.
std::vector<DnsServer> resolvConfServers(std::string_view text);
// The spec's static servers (port 53 when none is given).
std::vector<DnsServer> specServers(const std::vector<Endpoint>& servers);
// The servers to ask, by the preference above: `uplink` is what resolved holds for the
// uplink (empty without resolved), `resolvConf` the text of /etc/resolv.conf.
std::vector<DnsServer> chooseServers(const WanSettings& wan, std::vector<DnsServer> uplink,
                                     std::string_view resolvConf);

// The uplink's DNS servers as resolved holds them now; empty when unknown.
using UplinkServers = std::function<std::vector<DnsServer>()>;

class UplinkDnsResolver final : public EndpointResolver {
public:
    explicit UplinkDnsResolver(sd_event* event, std::string resolvConfPath = "/etc/resolv.conf");
    ~UplinkDnsResolver();
    UplinkDnsResolver(const UplinkDnsResolver&) = delete;
    UplinkDnsResolver& operator=(const UplinkDnsResolver&) = delete;

    void resolve(const std::string& host, const WanSettings& wan, Done done) override;
    // Where the uplink's servers come from (see above); without it, resolv.conf is next.
    void useUplinkServers(UplinkServers servers) { uplinkServers_ = std::move(servers); }

private:
    struct Request;
    void finish(Request& request);

    sd_event* event_;
    std::string resolvConfPath_;
    UplinkServers uplinkServers_;
    std::list<std::unique_ptr<Request>> requests_;
};

} // namespace vpnsteer::wireguard
