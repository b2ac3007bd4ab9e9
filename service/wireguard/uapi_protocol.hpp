// wireguard-go's configuration protocol (https://www.wireguard.com/xplatform/): text
// lines key=value over a UNIX socket, a `set=1` or `get=1` request ending with an empty
// line, answered by `errno=N` and an empty line. Pure: encoding and parsing only, so both
// are unit-tested without a socket.
#pragma once

#include "service/wireguard/device.hpp"

#include <string>
#include <string_view>

namespace vpnsteer::wireguard {

// The whole `set=1` request for `change`, the final empty line included.
std::string encodeUapiSet(const DeviceChange& change);

inline constexpr std::string_view uapiGetRequest = "get=1\n\n";

struct UapiAnswer {
    int error = 0; // the errno= value; 0 for success
    DeviceStatus status;
};

// Parses the answer to `get=1` (or the bare `errno=N` answer to `set=1`). A missing errno=
// line counts as a protocol error (EPROTO); lines vpnsteerd has no use for are skipped.
UapiAnswer parseUapiAnswer(std::string_view text);

} // namespace vpnsteer::wireguard
