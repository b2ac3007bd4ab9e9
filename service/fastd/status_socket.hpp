// fastd's status socket, read over AF_UNIX.
#pragma once

#include "service/fastd/system.hpp"

namespace vpnsteer::fastd {

class UnixStatusSocket final : public StatusSocket {
public:
    // fastd answers at once; a stuck one must not hold up vpnsteerd's event loop for long.
    std::string read(const std::string& path) override;
};

} // namespace vpnsteer::fastd
