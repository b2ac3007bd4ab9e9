// Resolves a peer's endpoint host name to addresses, asynchronously on vpnsteerd's event
// loop. The real one (dns_resolver.hpp) asks the uplink's DNS servers with the WAN mark;
// unit tests use a fake.
#pragma once

#include "core/spec.hpp"

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace vpnsteer::wireguard {

struct ResolvedAddress {
    int family = 0; // AF_INET or AF_INET6
    std::array<std::uint8_t, 16> address{};
    bool operator==(const ResolvedAddress&) const = default;
};

struct ResolveResult {
    std::vector<ResolvedAddress> addresses; // IPv4 first, in the order the server gave
    std::string error;                      // why there are none; "" on success
};

class EndpointResolver {
public:
    using Done = std::function<void(ResolveResult)>;
    // Resolves `host` through the uplink of `wan` (its mark, its static servers). Calls
    // `done` exactly once. Never throws.
    virtual void resolve(const std::string& host, const WanSettings& wan, Done done) = 0;

protected:
    ~EndpointResolver() = default;
};

} // namespace vpnsteer::wireguard
