// What `vpnsteer wan` puts in a program's environment so that libpacketmark.so marks every
// socket it opens with the WAN mark (packetmark/packetmark.cpp reads LIBPACKETMARK_MARK).
// Pure, for the unit tests; wan.cpp does the exec.
#pragma once

#include "core/spec.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace vpnsteer::cli {

// LD_PRELOAD with `library` first (a preload the caller had stays, after it; ld.so(8) takes
// spaces or colons between entries), and LIBPACKETMARK_MARK in decimal.
std::map<std::string, std::string> packetmarkEnvironment(const std::string& library,
                                                         std::uint32_t mark,
                                                         const std::optional<std::string>& preload);

// The WAN mark of the spec `text`: wan.mark, or the default when the spec has no wan section.
// Errors: the spec's problems under "wan" (or the whole spec when it is rejected), one per line.
struct WanMark {
    std::uint32_t mark = derive::defaultWanMark;
    std::vector<std::string> errors;
};
WanMark wanMarkOf(const std::string& text);

} // namespace vpnsteer::cli
