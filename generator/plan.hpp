// What one run of vpnsteer-generator does, decided from the parse result alone: the
// files to write, which old files may be removed, and what to report.
//
// Pure, like render.hpp; main.cpp carries the plan out.
#pragma once

#include "core/spec.hpp"
#include "generator/render.hpp"

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace vpnsteer::generator {

struct Plan {
    FileSet networkFiles; // for the network folder (/run/systemd/network)
    FileSet unitFiles;    // for the generator's normal folder
    FileSet fastdFiles;   // for RenderOptions::fastdDir (mode 0600)
    // Unit name -> the drop-ins for the normal folder's UNIT.d/ (systemd.unit(5)). Only from
    // a spec whose wan section is valid: the timesyncd drop-in holds its mark.
    std::map<std::string, FileSet> unitDropIns;

    // Whether owned files (filenames::isOwned) that are not in `keepNetworkFiles` are
    // removed from the network folder. False when the spec could not be used at all: a
    // syntax error must not tear down every VPN.
    bool removeStaleFiles = true;
    std::set<std::string> keepNetworkFiles; // the files written now, and those of invalid VPNs
    std::set<std::string> keepFastdFiles;   // the same for the fastd folder

    std::vector<std::string> errors; // one message per line, for the log
    bool failed() const { return !errors.empty(); }
};

// `parsed` is nullopt when the spec file does not exist: nothing to generate, and every
// owned file is stale. `existingNetworkFiles` lists the network folder as it is; when the
// spec is unusable, the VPNs those files belong to keep their vpn-NAME.service.
Plan planRun(const std::optional<ParseResult>& parsed,
             const std::vector<std::string>& existingNetworkFiles, const RenderOptions& options);

// The VPN a generated network file belongs to ("60-vpnsteer-us.network" -> "us"), or
// nullopt for a file name the generator does not write.
std::optional<std::string> vpnOfNetworkFile(std::string_view fileName);

} // namespace vpnsteer::generator
