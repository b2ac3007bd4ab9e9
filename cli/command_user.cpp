#include "cli/command_user.hpp"

#include <charconv>
#include <limits>

namespace vpnsteer::cli {

namespace {

// A uid or gid as sudo writes it: decimal digits only, below the kernel's "no id" (-1).
std::optional<unsigned> parseId(const std::string& text) {
    unsigned value = 0;
    const char* end = text.data() + text.size();
    auto [stop, error] = std::from_chars(text.data(), end, value);
    if (text.empty() || error != std::errc() || stop != end ||
        value == std::numeric_limits<unsigned>::max())
        return std::nullopt;
    return value;
}

} // namespace

std::variant<CommandUser, std::string> commandUserOf(const CallerIdentity& caller) {
    if (caller.effectiveUid != 0) {
        return std::string("exec needs root to make a network namespace on the bridge; members "
                           "of the vpnsteer group run it as: sudo vpnsteer exec NAME -- CMD "
                           "(see docs/exec.md)");
    }
    // A set-user-ID vpnsteer would run anyone's command with root's namespace rights and is
    // not a supported way in: the rule about who may is sudo's.
    if (caller.realUid != 0)
        return std::string("exec must not run set-user-ID; use: sudo vpnsteer exec NAME -- CMD");
    if (!caller.sudoUid && !caller.sudoGid)
        return CommandUser{.uid = 0, .gid = 0};
    const std::string uidText = caller.sudoUid.value_or("");
    const std::string gidText = caller.sudoGid.value_or("");
    auto uid = parseId(uidText);
    auto gid = parseId(gidText);
    if (!uid)
        return "SUDO_UID must be a user id, got '" + uidText + "'";
    if (!gid)
        return "SUDO_GID must be a group id, got '" + gidText + "'";
    return CommandUser{.uid = *uid, .gid = *gid};
}

} // namespace vpnsteer::cli
