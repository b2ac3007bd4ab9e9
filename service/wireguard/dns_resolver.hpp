// Resolves endpoint host names through the uplink (issue 4 item 3), on vpnsteerd's event
// loop. Its UDP sockets carry the WAN mark (SO_MARK), so the rule `fwmark WANMARK lookup
// main` (priority 80) sends the queries out of the real uplink even while a VPN is
// system-wide, and whatever a VPN's tunnel does cannot stop the tunnel from finding its peer.
//
// The servers asked, in order of preference:
// 1. the spec's wan.dns.servers;
// 2. otherwise the `nameserver` lines of /etc/resolv.conf, leaving out loopback addresses:
//    a local stub (systemd-resolved's 127.0.0.53) resolves through whatever carries the host,
//    which is the VPN when one is system-wide. On a host whose resolv.conf names only the
//    stub, set wan.dns.servers.
// Each server gets 2 s for both questions (A and AAAA), then the next is asked.
#pragma once

#include "core/spec.hpp"
#include "service/dbus/bus_event_source.hpp"
#include "service/wireguard/endpoint_resolver.hpp"

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

class UplinkDnsResolver final : public EndpointResolver {
public:
    explicit UplinkDnsResolver(sd_event* event, std::string resolvConfPath = "/etc/resolv.conf");
    ~UplinkDnsResolver();
    UplinkDnsResolver(const UplinkDnsResolver&) = delete;
    UplinkDnsResolver& operator=(const UplinkDnsResolver&) = delete;

    void resolve(const std::string& host, const WanSettings& wan, Done done) override;

private:
    struct Request;
    void finish(Request& request);

    sd_event* event_;
    std::string resolvConfPath_;
    std::list<std::unique_ptr<Request>> requests_;
};

} // namespace vpnsteer::wireguard
