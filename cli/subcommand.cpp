#include "cli/subcommand.hpp"

#include <ostream>

namespace vpnsteer::cli {

int Invocation::usageError() const {
    err << "Usage: " << programName << ' ' << synopsis << '\n';
    return 1;
}

} // namespace vpnsteer::cli
