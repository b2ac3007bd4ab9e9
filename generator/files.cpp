#include "generator/files.hpp"

#include "core/spec.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <memory>
#include <optional>
#include <stdexcept>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <system_error>
#include <unistd.h>
#include <utility>

namespace vpnsteer::generator {
namespace {

std::system_error errnoError(int error, const std::string& what) {
    return std::system_error(error, std::generic_category(), what);
}

struct DirectoryCloser {
    void operator()(DIR* dir) const { ::closedir(dir); }
};
using Directory = std::unique_ptr<DIR, DirectoryCloser>;

// Reads all of `fd`. Returns false (errno set) on failure.
bool readAll(int fd, std::string& text) {
    std::array<char, 16384> buffer;
    for (;;) {
        ssize_t n = ::read(fd, buffer.data(), buffer.size());
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return false;
        if (n == 0)
            return true;
        text.append(buffer.data(), static_cast<std::size_t>(n));
    }
}

bool writeAll(int fd, std::string_view bytes) {
    while (!bytes.empty()) {
        ssize_t n = ::write(fd, bytes.data(), bytes.size());
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return false;
        bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

bool holdsExactly(int dir, const std::string& name, std::string_view contents) {
    // O_NOFOLLOW: a symlink in our place is replaced, never written through.
    UniqueFd fd(::openat(dir, name.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK));
    struct stat status {};
    if (!fd || ::fstat(fd.get(), &status) != 0 || !S_ISREG(status.st_mode) ||
        static_cast<std::size_t>(status.st_size) != contents.size())
        return false;
    std::string existing;
    return readAll(fd.get(), existing) && existing == contents;
}

// A name for a file being written: hidden and without the final suffix, so networkd and
// systemd ignore it, and unique within this process.
std::string temporaryName(const std::string& name) {
    static unsigned counter = 0;
    return ".#" + name + "." + std::to_string(::getpid()) + "." + std::to_string(counter++);
}

} // namespace

std::optional<std::string> readRegularFile(const std::filesystem::path& path) {
    // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer, and a
    // generator must never hold up boot.
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
    if (!fd) {
        if (errno == ENOENT)
            return std::nullopt;
        throw errnoError(errno, "opening " + path.string());
    }
    struct stat status {};
    if (::fstat(fd.get(), &status) != 0)
        throw errnoError(errno, "reading " + path.string());
    if (!S_ISREG(status.st_mode))
        throw std::runtime_error("reading " + path.string() + ": not a regular file");
    std::string text;
    if (!readAll(fd.get(), text))
        throw errnoError(errno, "reading " + path.string());
    return text;
}

void makeDirectories(const std::filesystem::path& dir) {
    std::error_code error;
    std::filesystem::create_directories(dir, error);
    if (error)
        throw std::system_error(error, "creating " + dir.string());
}

OutputDirectory::OutputDirectory(std::filesystem::path path, Readers readers, mode_t mode)
    : path_(std::move(path))
    , fd_(::open(path_.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC))
    , readers_(readers)
    , mode_(mode) {
    if (!fd_)
        throw errnoError(errno, "opening " + path_.string());
}

// New files are written as an unnamed O_TMPFILE and linked into place once complete:
// atomic like a rename, but one directory operation instead of two, which is most of a
// generator's cost (bench/generator). A file that exists is replaced by rename.
WriteResult OutputDirectory::write(const std::string& name, std::string_view contents,
                                   bool mayExist) {
    if (mayExist && holdsExactly(fd_.get(), name, contents))
        return WriteResult::unchanged;
    if (!mayExist && readers_ == Readers::none && writeNew(name, contents))
        return WriteResult::written;

    // Only for messages: building a path costs more than writing a small file.
    auto target = [&] { return (path_ / name).string(); };
    UniqueFd file(::openat(fd_.get(), ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, mode_));
    std::optional<std::string> named; // set while the bytes sit under a temporary name
    if (!file) {
        if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
            throw errnoError(errno, "creating a temporary file for " + target());
        // No O_TMPFILE on this file system: a named temporary file instead.
        named = temporaryName(name);
        file = UniqueFd(
            ::openat(fd_.get(), named->c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, mode_));
        if (!file)
            throw errnoError(errno, "creating a temporary file for " + target());
    }
    // No fsync: the files live in /run (tmpfs) and are made anew on every boot.
    // The mode is mode_ as the generator's main() sets umask 022.
    if (!writeAll(file.get(), contents)) {
        int error = errno;
        if (named)
            ::unlinkat(fd_.get(), named->c_str(), 0);
        throw errnoError(error, "writing " + target());
    }

    if (!named) {
        // AT_EMPTY_PATH needs CAP_DAC_READ_SEARCH, which systemd's generators have; the
        // /proc/self/fd route works for anyone else.
        const std::string self = "/proc/self/fd/" + std::to_string(file.get());
        int linked = ::linkat(file.get(), "", fd_.get(), name.c_str(), AT_EMPTY_PATH);
        if (linked != 0 && (errno == EPERM || errno == ENOENT))
            linked = ::linkat(AT_FDCWD, self.c_str(), fd_.get(), name.c_str(), AT_SYMLINK_FOLLOW);
        if (linked == 0)
            return WriteResult::written;
        if (errno != EEXIST)
            throw errnoError(errno, "linking " + target());
        if (!mayExist && holdsExactly(fd_.get(), name, contents))
            return WriteResult::unchanged;
        named = temporaryName(name);
        if (::linkat(AT_FDCWD, self.c_str(), fd_.get(), named->c_str(), AT_SYMLINK_FOLLOW) != 0)
            throw errnoError(errno, "linking a temporary file for " + target());
    }
    if (::renameat(fd_.get(), named->c_str(), fd_.get(), name.c_str()) != 0) {
        int error = errno;
        ::unlinkat(fd_.get(), named->c_str(), 0);
        throw errnoError(error, "renaming a temporary file to " + target());
    }
    return WriteResult::written;
}

// One directory operation (the create) instead of two (O_TMPFILE, then link): the
// difference is most of the generator's time for many VPNs (bench/generator). Returns false
// when a file is there after all, for write() to replace it.
bool OutputDirectory::writeNew(const std::string& name, std::string_view contents) {
    UniqueFd file(::openat(fd_.get(), name.c_str(),
                           O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, mode_));
    if (!file) {
        if (errno == EEXIST)
            return false;
        throw errnoError(errno, "creating " + (path_ / name).string());
    }
    if (!writeAll(file.get(), contents)) {
        int error = errno;
        ::unlinkat(fd_.get(), name.c_str(), 0);
        throw errnoError(error, "writing " + (path_ / name).string());
    }
    return true;
}

WriteResult writeFileAtomically(const std::filesystem::path& dir, const std::string& name,
                                std::string_view contents) {
    std::optional<OutputDirectory> output;
    try {
        output.emplace(dir);
    } catch (const std::system_error& error) {
        throw std::system_error(error.code(),
                                "writing " + (dir / name).string() + ": cannot open the folder");
    }
    return output->write(name, contents, true);
}

std::vector<std::string> listDirectory(const std::filesystem::path& dir) {
    Directory handle(::opendir(dir.c_str()));
    if (!handle) {
        if (errno == ENOENT)
            return {};
        throw errnoError(errno, "listing " + dir.string());
    }
    std::vector<std::string> names;
    errno = 0;
    while (const dirent* entry = ::readdir(handle.get())) {
        std::string_view name = entry->d_name;
        if (name != "." && name != "..")
            names.emplace_back(name);
        errno = 0;
    }
    if (errno != 0)
        throw errnoError(errno, "listing " + dir.string());
    std::sort(names.begin(), names.end());
    return names;
}

Removal removeStaleFiles(const std::filesystem::path& dir, const std::set<std::string>& keep,
                         bool (*owned)(std::string_view)) {
    Removal removal;
    std::vector<std::string> names;
    try {
        names = listDirectory(dir);
    } catch (const std::system_error& error) {
        removal.errors.emplace_back(error.what());
        return removal;
    }
    for (const auto& name : names) {
        if (!owned(name) || keep.count(name))
            continue;
        const std::filesystem::path path = dir / name;
        struct stat status {};
        if (::lstat(path.c_str(), &status) != 0) {
            if (errno != ENOENT)
                removal.errors.push_back("removing " + path.string() + ": " + std::strerror(errno));
            continue;
        }
        if (S_ISDIR(status.st_mode))
            continue;
        if (::unlink(path.c_str()) != 0) {
            if (errno != ENOENT)
                removal.errors.push_back("removing " + path.string() + ": " + std::strerror(errno));
            continue;
        }
        removal.removed.push_back(name);
    }
    return removal;
}

bool moduleIndexListsWireguard(std::string_view index) {
    // Lines are "kernel/drivers/net/wireguard/wireguard.ko[.xz]: deps..." (modules.dep)
    // or "kernel/drivers/net/wireguard/wireguard.ko" (modules.builtin).
    static constexpr std::string_view module = "wireguard.ko";
    for (std::size_t at = index.find(module); at != std::string_view::npos;
         at = index.find(module, at + 1)) {
        const bool startsName = at == 0 || index[at - 1] == '/' || index[at - 1] == '\n';
        const std::size_t end = at + module.size();
        const bool endsName =
            end == index.size() || index[end] == ':' || index[end] == '.' || index[end] == '\n';
        if (startsName && endsName)
            return true;
    }
    return false;
}

bool kernelSupportsWireguard() {
    if (::access("/sys/module/wireguard", F_OK) == 0)
        return true;
    utsname system{};
    if (::uname(&system) != 0)
        return false;
    // Generators run before modules are loaded, so the module index decides. NixOS keeps
    // the booted kernel's modules below /run/booted-system.
    for (const char* root :
         {"/lib/modules/", "/usr/lib/modules/", "/run/booted-system/kernel-modules/lib/modules/"}) {
        for (const char* index : {"/modules.builtin", "/modules.dep"}) {
            std::optional<std::string> text;
            try {
                text = readRegularFile(std::string(root) + system.release + index);
            } catch (const std::runtime_error&) {
                continue;
            }
            if (text && moduleIndexListsWireguard(*text))
                return true;
        }
    }
    return false;
}

} // namespace vpnsteer::generator
