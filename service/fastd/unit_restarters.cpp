#include "service/fastd/unit_restarters.hpp"

#include "service/file_text.hpp"

#include <cerrno>
#include <charconv>
#include <csignal>
#include <stdexcept>
#include <system_error>

namespace vpnsteer::fastd {

SystemdUnits::SystemdUnits(sdbus::IConnection& bus)
    : systemd_(sdbus::createProxy(bus, "org.freedesktop.systemd1", "/org/freedesktop/systemd1")) {
    systemd_->finishRegistration();
}

void SystemdUnits::restart(const std::string& unit) {
    try {
        sdbus::ObjectPath job;
        systemd_->callMethod("RestartUnit")
            .onInterface("org.freedesktop.systemd1.Manager")
            .withArguments(unit, std::string("replace"))
            .storeResultsTo(job);
    } catch (const sdbus::Error& error) {
        // Not passed on under systemd's name: the caller gets org.vpnsteer1.Error.Failed.
        throw std::runtime_error("restarting " + unit + ": " + error.getName() + ": " +
                                 error.getMessage());
    }
}

void PidFileUnits::restart(const std::string& unit) {
    const std::string path = dir_ + "/" + unit + ".pid";
    const std::string text = readFileText(path).value_or("");
    const std::size_t start = text.find_first_not_of(" \t\n");
    long pid = 0;
    if (start == std::string::npos ||
        std::from_chars(text.data() + start, text.data() + text.size(), pid).ec != std::errc() ||
        pid <= 1) {
        throw std::runtime_error("restarting " + unit + ": no pid in " + path);
    }
    if (::kill(static_cast<pid_t>(pid), SIGTERM) != 0) {
        throw std::system_error(errno, std::generic_category(),
                                "restarting " + unit + " (pid " + std::to_string(pid) + ")");
    }
}

} // namespace vpnsteer::fastd
