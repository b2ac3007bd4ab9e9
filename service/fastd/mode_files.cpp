#include "service/fastd/mode_files.hpp"

#include "service/file_text.hpp"

#include <cerrno>
#include <cstdio>
#include <fcntl.h>
#include <filesystem>
#include <stdexcept>
#include <string_view>
#include <sys/stat.h>
#include <system_error>
#include <unistd.h>

namespace vpnsteer::fastd {
namespace {

std::system_error failure(int error, const std::string& what) {
    return std::system_error(error, std::generic_category(), what);
}

} // namespace

std::optional<FastdTransportMode> TransportModeFiles::load(const std::string& vpn) {
    const std::string path = filenames::transportModeFile(stateDir_, vpn);
    const std::optional<std::string> text = readFileText(path);
    if (!text) {
        return std::nullopt;
    }
    const std::string_view line = std::string_view(*text).substr(0, text->find('\n'));
    for (FastdTransportMode mode : {FastdTransportMode::secure, FastdTransportMode::performance}) {
        if (line == filenames::transportModeFileText(mode)) {
            return mode;
        }
    }
    throw std::runtime_error(path + " holds neither mode; ignoring it");
}

void TransportModeFiles::save(const std::string& vpn, FastdTransportMode mode) {
    const std::filesystem::path path = filenames::transportModeFile(stateDir_, vpn);
    std::error_code error;
    std::filesystem::create_directories(path.parent_path(), error);
    if (error) {
        throw std::system_error(error, "creating " + path.parent_path().string());
    }
    const std::string temporary = path.string() + ".new";
    const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        throw failure(errno, "writing " + temporary);
    }
    const std::string text = filenames::transportModeFileText(mode) + "\n";
    const bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
    const int writeError = errno;
    // fsync: a choice the user made should survive a power cut right after it.
    const bool synced = written && ::fsync(fd) == 0;
    ::close(fd);
    if (!written || !synced) {
        ::unlink(temporary.c_str());
        throw failure(written ? errno : writeError, "writing " + temporary);
    }
    if (std::rename(temporary.c_str(), path.c_str()) != 0) {
        const int renameError = errno;
        ::unlink(temporary.c_str());
        throw failure(renameError, "renaming " + temporary + " to " + path.string());
    }
}

} // namespace vpnsteer::fastd
