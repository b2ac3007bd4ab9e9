// The owner of a file descriptor: closes it once, and moves but never copies.
//
// Here rather than in service/ because every program holds descriptors (vpnsteerd's system
// adapters, the CLI, the generator) and every program includes core. Header only, so using it
// adds no library to the CLI or the generator, which load little on purpose (bench/toggle,
// bench/generator); and core stays free of I/O but for close(2).
#pragma once

#include <unistd.h>
#include <utility>

namespace vpnsteer {

class UniqueFd {
public:
    UniqueFd() = default;
    explicit UniqueFd(int fd)
        : fd_(fd) {}
    ~UniqueFd() { reset(); }
    UniqueFd(UniqueFd&& other) noexcept
        : fd_(std::exchange(other.fd_, -1)) {}
    UniqueFd& operator=(UniqueFd&& other) noexcept {
        if (this != &other) {
            reset(std::exchange(other.fd_, -1));
        }
        return *this;
    }
    UniqueFd(const UniqueFd&) = delete;
    UniqueFd& operator=(const UniqueFd&) = delete;

    int get() const { return fd_; }
    explicit operator bool() const { return fd_ >= 0; }
    // Gives the descriptor up, for a caller that must see close()'s result itself.
    int release() { return std::exchange(fd_, -1); }
    void reset(int fd = -1) {
        if (fd_ >= 0) {
            ::close(fd_);
        }
        fd_ = fd;
    }

private:
    int fd_ = -1;
};

} // namespace vpnsteer
