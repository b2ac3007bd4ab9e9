// The D-Bus boundary: what a method handler throws becomes a named org.vpnsteer1.Error.*
// error. sdbus-c++ 1.2 passes only sdbus::Error on to the caller; any other exception would
// cross sd-bus's C code, so none may leave a handler.
#pragma once

#include "service/dbus/names.hpp"

#include <exception>
#include <sdbus-c++/Error.h>

namespace vpnsteer::dbus {

template <typename Handler>
decltype(auto) atBoundary(Handler&& handler) {
    try {
        return handler();
    } catch (const sdbus::Error&) {
        throw;
    } catch (const std::exception& error) {
        throw sdbus::Error(errors::failed, error.what());
    } catch (...) {
        throw sdbus::Error(errors::failed, "unexpected failure");
    }
}

} // namespace vpnsteer::dbus
