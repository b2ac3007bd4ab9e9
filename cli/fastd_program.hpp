// Runs fastd itself for vpnsteer's fastd key subcommands: the keys are fastd's own
// (`fastd --generate-key`, `--show-key`), so they can never disagree with what fastd accepts.
#pragma once

#include <string>
#include <vector>

namespace vpnsteer::cli {

struct ProgramResult {
    int status = 0; // the exit status; 127 when fastd could not be run
    std::string out;
    std::string err;
};

// fastd from PATH (or $VPNSTEER_FASTD) with `arguments`, `input` on its stdin. Never throws
// for a failing fastd; the result says what happened.
ProgramResult runFastd(const std::vector<std::string>& arguments, const std::string& input);

} // namespace vpnsteer::cli
