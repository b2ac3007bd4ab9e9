#include "service/rules/sysctl.hpp"

#include <algorithm>
#include <cerrno>
#include <fcntl.h>
#include <system_error>
#include <unistd.h>

namespace vpnsteer::rules {

void ProcSysctl::write(std::string_view key, std::string_view value) {
    std::string path = "/proc/sys/" + std::string(key);
    std::replace(path.begin() + 10, path.end(), '.', '/');
    const std::string what = "setting " + std::string(key) + "=" + std::string(value);
    const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
        throw std::system_error(errno, std::generic_category(), what + " (opening " + path + ")");
    }
    const ssize_t written = ::write(fd, value.data(), value.size());
    const int writeErrno = errno;
    ::close(fd);
    if (written != static_cast<ssize_t>(value.size())) {
        throw std::system_error(written < 0 ? writeErrno : EIO, std::generic_category(), what);
    }
}

} // namespace vpnsteer::rules
