// The two DNS messages endpoint resolution needs (RFC 1035 section 4): a query for the A or
// AAAA records of a name, and the addresses in its answer. Pure, so unit-tested.
#pragma once

#include "service/wireguard/endpoint_resolver.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vpnsteer::wireguard {

inline constexpr std::uint16_t dnsTypeA = 1;
inline constexpr std::uint16_t dnsTypeAaaa = 28;

// A recursive query (RD set) for `name`; nullopt when the name cannot be a DNS name
// (a label longer than 63 bytes, an empty label, more than 253 bytes).
std::optional<std::vector<std::uint8_t>> encodeDnsQuery(std::uint16_t id, std::string_view name,
                                                        std::uint16_t type);

struct DnsAnswer {
    std::uint16_t id = 0;
    int rcode = 0;
    bool truncated = false;
    std::vector<ResolvedAddress> addresses; // the A and AAAA records of the answer section
};

// nullopt for anything that is not a well-formed response.
std::optional<DnsAnswer> parseDnsAnswer(const std::uint8_t* data, std::size_t size);

} // namespace vpnsteer::wireguard
