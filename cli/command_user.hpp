// Who `vpnsteer exec` runs the command as. Making a network namespace and plugging it into a
// bridge needs root, so members of the group "vpnsteer" run the CLI through sudo
// (units/sudoers-vpnsteer.in, docs/exec.md); the command must then run as the person who
// called sudo, not as root. Pure: the process's identity comes in as values.
#pragma once

#include <optional>
#include <string>
#include <sys/types.h>
#include <variant>

namespace vpnsteer::cli {

// What the process knows about who started it.
struct CallerIdentity {
    uid_t realUid = 0;
    uid_t effectiveUid = 0;
    // sudo(8) sets SUDO_UID and SUDO_GID to the invoking user's ids; absent without sudo.
    std::optional<std::string> sudoUid{};
    std::optional<std::string> sudoGid{};
};

// The account the command runs as.
struct CommandUser {
    uid_t uid = 0;
    gid_t gid = 0;

    bool operator==(const CommandUser&) const = default;
};

// The command's user, or the one-line reason (without the program name) why exec cannot run:
// not root, or sudo's variables are not numbers.
std::variant<CommandUser, std::string> commandUserOf(const CallerIdentity& caller);

} // namespace vpnsteer::cli
