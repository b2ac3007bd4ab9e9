// A user's transport modes, one file per VPN (filenames::transportModeFile): the fastd unit
// reads it as its EnvironmentFile=, so the choice holds across restarts of vpnsteerd, of the
// unit and of the host.
#pragma once

#include "service/fastd/system.hpp"

#include <string>

namespace vpnsteer::fastd {

class TransportModeFiles final : public TransportModeStore {
public:
    explicit TransportModeFiles(std::string stateDir)
        : stateDir_(std::move(stateDir)) {}
    std::optional<FastdTransportMode> load(const std::string& vpn) override;
    // Atomic: the unit sees the old file or the new one.
    void save(const std::string& vpn, FastdTransportMode mode) override;

private:
    std::string stateDir_;
};

} // namespace vpnsteer::fastd
