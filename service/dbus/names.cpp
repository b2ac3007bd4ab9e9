#include "service/dbus/names.hpp"

#include <cstdlib>
#include <memory>
#include <new>
#include <system_error>
#include <systemd/sd-bus.h>

namespace vpnsteer::dbus {

namespace {

struct FreeDeleter {
    void operator()(char* text) const { std::free(text); }
};

} // namespace

std::string vpnObjectPath(std::string_view name) {
    char* encoded = nullptr;
    const int result = sd_bus_path_encode(vpnPathPrefix, std::string(name).c_str(), &encoded);
    std::unique_ptr<char, FreeDeleter> owned(encoded);
    if (result < 0) {
        throw std::system_error(-result, std::generic_category(),
                                "encoding the object path of VPN '" + std::string(name) + "'");
    }
    return owned.get();
}

std::string vpnNameFromObjectPath(std::string_view path) {
    char* decoded = nullptr;
    const int result = sd_bus_path_decode(std::string(path).c_str(), vpnPathPrefix, &decoded);
    std::unique_ptr<char, FreeDeleter> owned(decoded);
    if (result < 0) {
        throw std::system_error(-result, std::generic_category(),
                                "decoding the object path '" + std::string(path) + "'");
    }
    return result > 0 ? std::string(owned.get()) : std::string();
}

} // namespace vpnsteer::dbus
