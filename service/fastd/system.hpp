// The outside systems service/fastd talks to, each behind a small interface so the logic in
// tunnels.hpp is tested with fakes: fastd's status sockets, the service manager that runs
// the fastd units, and the file that keeps a user's transport mode.
#pragma once

#include "core/spec.hpp"

#include <optional>
#include <string>

namespace vpnsteer::fastd {

class StatusSocket {
public:
    virtual ~StatusSocket() = default;
    // The whole document fastd writes on `path`. Throws std::system_error (no fastd there).
    virtual std::string read(const std::string& path) = 0;
};

class UnitRestarter {
public:
    virtual ~UnitRestarter() = default;
    // Restarts `unit` (vpn-NAME-fastd.service). Throws std::runtime_error saying why not.
    virtual void restart(const std::string& unit) = 0;
};

class TransportModeStore {
public:
    virtual ~TransportModeStore() = default;
    // The mode the user chose for `vpn`, nullopt for none. Throws std::runtime_error when
    // what is stored cannot be read.
    virtual std::optional<FastdTransportMode> load(const std::string& vpn) = 0;
    // Throws std::system_error; the previous choice stays then.
    virtual void save(const std::string& vpn, FastdTransportMode mode) = 0;
};

} // namespace vpnsteer::fastd
