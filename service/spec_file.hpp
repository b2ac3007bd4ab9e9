// Reads the spec file vpnsteerd serves.
#pragma once

#include "core/spec.hpp"

#include <string>

namespace vpnsteer {

// Parses the file at `path`. A file that cannot be read is one error, named by the path:
// "/etc/vpnsteer/vpns.json: cannot be read: No such file or directory".
ParseResult readSpecFile(const std::string& path);

} // namespace vpnsteer
