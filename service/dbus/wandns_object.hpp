// /org/vpnsteer1/wandns: the org.vpnsteer1.WanDns interface, what the WAN DNS forwarder hosted
// in vpnsteerd serves and its live counters (service/org.vpnsteer1.WanDns.xml).
#pragma once

#include "service/dbus/wandns_adaptor.hpp"
#include "service/wandns/wan_dns_service.hpp"

#include <sdbus-c++/sdbus-c++.h>

namespace vpnsteer::dbus {

inline constexpr const char* wanDnsPath = "/org/vpnsteer1/wandns";

class WanDnsObject final
    : public sdbus::AdaptorInterfaces<org::vpnsteer1::WanDns_adaptor, sdbus::Properties_adaptor> {
public:
    // Announces the service's changes from now on; `service` must outlive the object.
    WanDnsObject(sdbus::IConnection& connection, wandns::WanDnsService& service);
    ~WanDnsObject();
    WanDnsObject(const WanDnsObject&) = delete;
    WanDnsObject& operator=(const WanDnsObject&) = delete;

private:
    std::vector<std::string> Listen() override;
    std::vector<std::string> Upstreams() override;
    std::string UpstreamSource() override;
    uint32_t FirewallMark() override { return service_.mark(); }
    uint64_t Queries() override { return service_.counters().queries; }
    uint64_t Answers() override { return service_.counters().answers; }
    uint64_t Servfails() override { return service_.counters().servfails; }
    uint64_t Timeouts() override { return service_.counters().timeouts; }
    uint64_t TruncatedRetries() override { return service_.counters().truncatedRetries; }
    uint64_t Refused() override { return service_.counters().refused; }
    uint64_t MalformedDropped() override { return service_.counters().malformedDropped; }
    uint64_t Overloaded() override { return service_.counters().overloaded; }
    uint32_t QueriesInFlight() override {
        return static_cast<uint32_t>(service_.queriesInFlight());
    }

    wandns::WanDnsService& service_;
};

} // namespace vpnsteer::dbus
