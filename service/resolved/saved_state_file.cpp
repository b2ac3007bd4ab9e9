#include "service/resolved/saved_state_file.hpp"

#include "core/unique_fd.hpp"

#include <cerrno>
#include <fcntl.h>
#include <sys/stat.h>
#include <system_error>
#include <unistd.h>

namespace vpnsteer::resolved {

namespace {

[[noreturn]] void fail(int error, const std::string& what) {
    throw std::system_error(error, std::generic_category(), what);
}

} // namespace

std::string SavedStateFile::load() {
    UniqueFd fd(::open(path_.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) {
        if (errno == ENOENT) {
            return "";
        }
        fail(errno, "reading " + path_);
    }
    std::string text;
    char buffer[4096];
    for (;;) {
        const ssize_t got = ::read(fd.get(), buffer, sizeof buffer);
        if (got < 0) {
            fail(errno, "reading " + path_);
        }
        if (got == 0) {
            return text;
        }
        text.append(buffer, static_cast<std::size_t>(got));
    }
}

void SavedStateFile::save(const std::string& text) {
    const std::string folder = path_.substr(0, path_.rfind('/'));
    if (!folder.empty() && ::mkdir(folder.c_str(), 0755) < 0 && errno != EEXIST) {
        fail(errno, "creating " + folder);
    }
    const std::string temporary = path_ + ".new";
    UniqueFd fd(::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (fd.get() < 0) {
        fail(errno, "writing " + temporary);
    }
    std::size_t done = 0;
    while (done < text.size()) {
        const ssize_t written = ::write(fd.get(), text.data() + done, text.size() - done);
        if (written < 0) {
            fail(errno, "writing " + temporary);
        }
        done += static_cast<std::size_t>(written);
    }
    if (::fsync(fd.get()) < 0 || ::close(fd.release()) < 0) {
        fail(errno, "writing " + temporary);
    }
    if (::rename(temporary.c_str(), path_.c_str()) < 0) {
        fail(errno, "renaming " + temporary + " to " + path_);
    }
}

void SavedStateFile::remove() {
    if (::unlink(path_.c_str()) < 0 && errno != ENOENT) {
        fail(errno, "removing " + path_);
    }
}

} // namespace vpnsteer::resolved
