#include "service/file_text.hpp"

#include "core/unique_fd.hpp"

#include <cerrno>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace vpnsteer {

std::optional<std::string> readFileText(const std::string& path) {
    UniqueFd file(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    const int fd = file.get();
    if (!file) {
        return std::nullopt;
    }
    std::string text;
    // Sized from fstat first, so a key file's bytes are not left behind by reallocations.
    struct stat status {};
    if (::fstat(fd, &status) == 0 && status.st_size > 0) {
        text.reserve(static_cast<std::size_t>(status.st_size) + 1);
    }
    char buffer[4096];
    for (;;) {
        const ssize_t count = ::read(fd, buffer, sizeof buffer);
        if (count == 0) {
            break;
        }
        if (count < 0) {
            if (errno == EINTR) {
                continue;
            }
            const int error = errno;
            file.reset();
            errno = error;
            return std::nullopt;
        }
        text.append(buffer, static_cast<std::size_t>(count));
    }
    return text;
}

} // namespace vpnsteer
