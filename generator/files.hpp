// The generator's file system effects: reading the spec, writing files atomically and
// removing the files of VPNs that left the spec. Everything else is pure (render.hpp,
// plan.hpp).
#pragma once

#include "core/spec.hpp"
#include "core/unique_fd.hpp"

#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

namespace vpnsteer::generator {

// The text of the file at `path`, or nullopt when nothing exists there. Never blocks: a
// FIFO or device there is refused rather than read. Throws std::runtime_error (a
// std::system_error when a system call failed) on other failures.
std::optional<std::string> readRegularFile(const std::filesystem::path& path);

// Creates `dir` and its missing parents (mode 0755). Throws std::system_error.
void makeDirectories(const std::filesystem::path& dir);

enum class WriteResult { written, unchanged };

// Makes dir/name hold exactly `contents`. The bytes go to a temporary file in the same
// folder that is then renamed over dir/name, so a reader (systemd-networkd, systemd) sees
// the old file or the new one, never a part. A file that already holds these bytes is
// left alone, so its mtime does not change. Throws std::system_error naming the file.
WriteResult writeFileAtomically(const std::filesystem::path& dir, const std::string& name,
                                std::string_view contents);

// Whether anything may read a folder while the generator writes into it.
enum class Readers {
    // systemd's generator folders: systemd empties them before it runs the generators and
    // reads them only after every generator has exited (systemd.generator(7)).
    none,
    // /run/systemd/network: systemd-networkd may load it at any moment (networkctl reload).
    concurrent,
};

// A folder the generator writes many files into, opened once.
class OutputDirectory {
public:
    // Throws std::system_error when `path` cannot be opened as a folder. New files get
    // `mode` (less the umask).
    explicit OutputDirectory(std::filesystem::path path, Readers readers = Readers::concurrent,
                             mode_t mode = 0644);
    OutputDirectory(const OutputDirectory&) = delete;
    OutputDirectory& operator=(const OutputDirectory&) = delete;

    // As writeFileAtomically. `mayExist` = false promises nothing is there yet (from a
    // listing made before), which saves the comparison; it is still handled if wrong. In a
    // folder without readers, a new file is written in place: nobody can see it half done.
    WriteResult write(const std::string& name, std::string_view contents, bool mayExist);

private:
    bool writeNew(const std::string& name, std::string_view contents);

    std::filesystem::path path_;
    UniqueFd fd_;
    Readers readers_;
    mode_t mode_;
};

// The names of the entries in `dir` (not "." and ".."), sorted; empty when `dir` does
// not exist. Throws std::system_error on other failures.
std::vector<std::string> listDirectory(const std::filesystem::path& dir);

struct Removal {
    std::vector<std::string> removed; // file names, sorted
    std::vector<std::string> errors;  // one message per file that could not be removed
};

// Removes every file in `dir` that the generator owns (`owned`, by default
// filenames::isOwned) and whose name is not in `keep`. Folders are never removed. A missing
// `dir` is not an error.
Removal removeStaleFiles(const std::filesystem::path& dir, const std::set<std::string>& keep,
                         bool (*owned)(std::string_view) = filenames::isOwned);

// Whether the running kernel can create WireGuard devices: the module is loaded or built
// in, or the running kernel's module index lists it. Reads /sys and the index files only;
// loads nothing.
bool kernelSupportsWireguard();

// Whether a modules.dep or modules.builtin text lists wireguard.ko (also compressed).
bool moduleIndexListsWireguard(std::string_view index);

} // namespace vpnsteer::generator
