// Whether the system clock is synchronized, for the warning that explains a failed
// handshake (docs/gateways.md, "The clock"): WireGuard's handshake initiation carries a
// timestamp (TAI64N), and a responder drops any initiation whose timestamp is not newer
// than the last it accepted from that peer, against replays. A client whose clock went
// backwards (no RTC, a dead CMOS battery, a wrong clock before NTP) gets no handshake from
// a gateway it talked to before until its clock passes that time again.
//
// The real one asks systemd-timedated (timedated_clock.hpp); unit tests use a fake.
#pragma once

#include <functional>
#include <optional>

namespace vpnsteer::wireguard {

class ClockSynchronization {
public:
    // nullopt when nobody could tell.
    using Done = std::function<void(std::optional<bool> synchronized)>;
    // Calls `done` exactly once, later on the event loop or at once. Never throws.
    virtual void askSynchronized(Done done) = 0;

protected:
    ~ClockSynchronization() = default;
};

} // namespace vpnsteer::wireguard
