// The two ways vpnsteerd restarts a fastd unit.
#pragma once

#include "service/fastd/system.hpp"

#include <sdbus-c++/sdbus-c++.h>
#include <string>

namespace vpnsteer::fastd {

// systemd's D-Bus API: org.freedesktop.systemd1.Manager.RestartUnit(unit, "replace"). The
// call returns once the job is queued; fastd's Type=notify then marks when it is up.
class SystemdUnits final : public UnitRestarter {
public:
    explicit SystemdUnits(sdbus::IConnection& bus);
    void restart(const std::string& unit) override;

private:
    std::unique_ptr<sdbus::IProxy> systemd_;
};

// For a supervisor that is not systemd (the test lab, which has no PID 1 of its own): the
// supervisor keeps the unit's main pid in DIR/UNIT.pid and starts the unit again when that
// process ends; restarting is sending it SIGTERM.
class PidFileUnits final : public UnitRestarter {
public:
    explicit PidFileUnits(std::string dir)
        : dir_(std::move(dir)) {}
    void restart(const std::string& unit) override;

private:
    std::string dir_;
};

} // namespace vpnsteer::fastd
