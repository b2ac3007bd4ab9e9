// SystemdUnits (service/fastd/unit_restarters.hpp) against a stand-in for systemd's Manager
// object on a private bus: the lab has no PID 1, so this is where the call vpnsteerd makes on
// a host is checked: destination, path, interface, member and arguments, and how an error of
// systemd's reaches SetTransportMode's caller.
//
// Usage: systemd-units-probe BUS_ADDRESS   (exit 0 when every check holds)
#include "service/fastd/unit_restarters.hpp"

#include <cstdio>
#include <mutex>
#include <sdbus-c++/sdbus-c++.h>
#include <string>
#include <utility>
#include <vector>

namespace {

int failures = 0;

void check(bool ok, const std::string& what) {
    std::printf("%s: %s\n", ok ? "ok" : "FAIL", what.c_str());
    failures += ok ? 0 : 1;
}

} // namespace

int main(int argc, char* argv[]) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: systemd-units-probe BUS_ADDRESS\n");
        return 2;
    }
    const std::string address = argv[1];

    // What systemd 252 exports (org.freedesktop.systemd1(5)): RestartUnit(in s name,
    // in s mode, out o job).
    auto systemd = sdbus::createSessionBusConnectionWithAddress(address);
    systemd->requestName("org.freedesktop.systemd1");
    auto manager = sdbus::createObject(*systemd, "/org/freedesktop/systemd1");
    std::mutex mutex;
    std::vector<std::pair<std::string, std::string>> calls;
    manager->registerMethod("RestartUnit")
        .onInterface("org.freedesktop.systemd1.Manager")
        .implementedAs([&](const std::string& unit, const std::string& mode) {
            if (unit == "missing.service")
                throw sdbus::Error("org.freedesktop.systemd1.NoSuchUnit",
                                   "Unit missing.service not found.");
            std::lock_guard lock(mutex);
            calls.emplace_back(unit, mode);
            return sdbus::ObjectPath("/org/freedesktop/systemd1/job/42");
        });
    manager->finishRegistration();
    systemd->enterEventLoopAsync();

    auto bus = sdbus::createSessionBusConnectionWithAddress(address);
    vpnsteer::fastd::SystemdUnits units(*bus);
    try {
        units.restart("vpn-ff-fastd.service");
        std::lock_guard lock(mutex);
        check(calls == decltype(calls){{"vpn-ff-fastd.service", "replace"}},
              "RestartUnit(\"vpn-ff-fastd.service\", \"replace\") reached systemd's Manager");
    } catch (const std::exception& error) {
        check(false, std::string("restart threw: ") + error.what());
    }
    try {
        units.restart("missing.service");
        check(false, "a unit systemd does not know is an error");
    } catch (const sdbus::Error& error) {
        check(false, "systemd's error must not pass on under its own name: " + error.getName());
    } catch (const std::runtime_error& error) {
        const std::string text = error.what();
        check(text == "restarting missing.service: org.freedesktop.systemd1.NoSuchUnit: Unit "
                      "missing.service not found.",
              "systemd's error is named in the message: " + text);
    }
    systemd->leaveEventLoop();
    return failures == 0 ? 0 : 1;
}
