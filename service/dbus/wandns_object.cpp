#include "service/dbus/wandns_object.hpp"

namespace vpnsteer::dbus {

namespace {

std::vector<std::string> texts(const std::vector<wandns::SocketAddress>& addresses) {
    std::vector<std::string> result;
    for (const wandns::SocketAddress& address : addresses) {
        result.push_back(address.toString());
    }
    return result;
}

} // namespace

WanDnsObject::WanDnsObject(sdbus::IConnection& connection, wandns::WanDnsService& service)
    : AdaptorInterfaces(connection, wanDnsPath)
    , service_(service) {
    registerAdaptor();
    service_.onChanged([this] {
        emitPropertiesChangedSignal(org::vpnsteer1::WanDns_adaptor::INTERFACE_NAME,
                                    {"Listen", "Upstreams", "UpstreamSource", "FirewallMark"});
    });
}

WanDnsObject::~WanDnsObject() {
    service_.onChanged({});
    unregisterAdaptor();
}

std::vector<std::string> WanDnsObject::Listen() {
    return texts(service_.listening());
}

std::vector<std::string> WanDnsObject::Upstreams() {
    return texts(service_.upstreams());
}

std::string WanDnsObject::UpstreamSource() {
    return std::string(wandns::toString(service_.upstreamSource()));
}

} // namespace vpnsteer::dbus
