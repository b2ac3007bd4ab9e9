// Unpredictable 16-bit query IDs (RFC 5452 §9.2: an off-path attacker must guess the ID as
// well as the source port). Bytes come from the kernel's CSPRNG through getrandom(2), read
// in blocks so that a query does not cost a system call.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace vpnsteer::wandns {

class RandomSource {
public:
    // Throws std::system_error when getrandom(2) fails (it only blocks before the kernel's
    // pool is initialized, early in boot).
    std::uint16_t next16();

private:
    void refill();

    std::array<std::uint8_t, 512> buffer_{};
    std::size_t used_ = buffer_.size();
};

} // namespace vpnsteer::wandns
