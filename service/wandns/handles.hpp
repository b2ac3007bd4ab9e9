// RAII owners for the C handles the WAN DNS forwarder holds: file descriptors and sd-event
// objects.
#pragma once

#include <memory>
#include <systemd/sd-event.h>
#include <unistd.h>
#include <utility>

namespace vpnsteer::wandns {

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
    void reset(int fd = -1) {
        if (fd_ >= 0) {
            ::close(fd_);
        }
        fd_ = fd;
    }

private:
    int fd_ = -1;
};

struct EventSourceDeleter {
    // Disabling first matters for io sources: the fd they watch is closed right after, and
    // a source that outlived its fd would make sd-event remove a stale fd from epoll.
    void operator()(sd_event_source* source) const { sd_event_source_disable_unref(source); }
};
using EventSourcePtr = std::unique_ptr<sd_event_source, EventSourceDeleter>;

struct EventDeleter {
    void operator()(sd_event* event) const { sd_event_unref(event); }
};
using EventPtr = std::unique_ptr<sd_event, EventDeleter>;

} // namespace vpnsteer::wandns
