// What a fastd status socket says (fastd's `status socket`: one JSON document per connection,
// then EOF), reduced to what vpnsteerd shows on org.vpnsteer1.Vpn.
//
// Pure: parseStatus() reads only the text it is given.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace vpnsteer::fastd {

struct FastdStatus {
    // The peer with an established connection ("" for none). In TUN mode fastd keeps at most
    // one connection, so the first established one is the one.
    std::string connectedPeer;
    std::string address; // that peer's address, "192.0.2.1:10000" or "[2001:db8::1]:10000"
    std::string method;  // the connection's method
    std::uint64_t establishedMilliseconds = 0; // how long ago it was established
    std::uint64_t rxBytes = 0;                 // the interface's totals
    std::uint64_t txBytes = 0;

    bool operator==(const FastdStatus&) const = default;
};

// Throws std::runtime_error naming what is wrong when `json` is not a fastd status document.
FastdStatus parseStatus(std::string_view json);

} // namespace vpnsteer::fastd
