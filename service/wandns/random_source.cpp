#include "service/wandns/random_source.hpp"

#include <cerrno>
#include <sys/random.h>
#include <system_error>

namespace vpnsteer::wandns {

std::uint16_t RandomSource::next16() {
    if (used_ + 2 > buffer_.size()) {
        refill();
    }
    const auto value = static_cast<std::uint16_t>(buffer_[used_] << 8 | buffer_[used_ + 1]);
    used_ += 2;
    return value;
}

void RandomSource::refill() {
    std::size_t filled = 0;
    while (filled < buffer_.size()) {
        const ssize_t got = ::getrandom(buffer_.data() + filled, buffer_.size() - filled, 0);
        if (got < 0) {
            if (errno == EINTR) {
                continue;
            }
            throw std::system_error(errno, std::generic_category(),
                                    "reading random query IDs (getrandom)");
        }
        filled += static_cast<std::size_t>(got);
    }
    used_ = 0;
}

} // namespace vpnsteer::wandns
