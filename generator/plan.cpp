#include "generator/plan.hpp"

#include <algorithm>

namespace vpnsteer::generator {
namespace {

// A spec that has errors and names no VPN at all, valid or not, is most likely broken
// above the VPNs ("vpns" misspelt or of the wrong type): it is treated like one that is
// not JSON. Removing files on its account would tear down every VPN.
bool isUnusable(const ParseResult& parsed) {
    return parsed.rejected ||
           (!parsed.ok() && parsed.spec.vpns.empty() && parsed.invalidVpns.empty());
}

} // namespace

std::optional<std::string> vpnOfNetworkFile(std::string_view fileName) {
    for (std::string_view prefix : {"60-vpnsteer-", "61-vpnsteer-"}) {
        if (!fileName.starts_with(prefix))
            continue;
        std::string_view rest = fileName.substr(prefix.size());
        for (std::string_view suffix : {".netdev", ".network"}) {
            if (!rest.ends_with(suffix))
                continue;
            std::string name(rest.substr(0, rest.size() - suffix.size()));
            if (prefix.starts_with("61-")) {
                if (!name.ends_with("-bridge"))
                    return std::nullopt;
                name.resize(name.size() - std::string_view("-bridge").size());
            }
            // Only names the generator could have written.
            if (networkFileNames(name).count(std::string(fileName)) && isValidInterfaceName(name))
                return name;
        }
    }
    return std::nullopt;
}

Plan planRun(const std::optional<ParseResult>& parsed,
             const std::vector<std::string>& existingNetworkFiles, const RenderOptions& options) {
    Plan plan;
    if (!parsed)
        return plan;

    for (const auto& error : parsed->errors)
        plan.errors.push_back(options.specPath + ": " + error.toString());

    if (isUnusable(*parsed)) {
        plan.removeStaleFiles = false;
        // systemd empties the generator's folders before each run, so units are written
        // again for the VPNs whose network files stay; otherwise `systemctl stop` would
        // no longer find what to run for a VPN that is up.
        std::set<std::string> vpns;
        for (const auto& fileName : existingNetworkFiles)
            if (auto vpn = vpnOfNetworkFile(fileName))
                vpns.insert(*vpn);
        plan.unitFiles = renderUnitFiles(Spec{}, vpns, options);
        plan.errors.push_back(options.specPath +
                              ": not using this spec; the generated network files are kept");
        return plan;
    }

    if (std::none_of(parsed->errors.begin(), parsed->errors.end(),
                     [](const SpecError& error) { return error.isIn("wan"); }))
        plan.unitDropIns[std::string(timesyncdUnit)].emplace(
            timesyncdDropInName, renderTimesyncdDropIn(parsed->spec.wan, options));
    else
        plan.errors.push_back(options.specPath +
                              ": no drop-in for systemd-timesyncd until the wan section is "
                              "valid; NTP follows the host's routes meanwhile");
    plan.networkFiles = renderNetworkFiles(parsed->spec, options);
    plan.unitFiles = renderUnitFiles(parsed->spec, parsed->invalidVpns, options);
    plan.fastdFiles = renderFastdFiles(parsed->spec, options);
    for (const auto& [fileName, contents] : plan.networkFiles)
        plan.keepNetworkFiles.insert(fileName);
    for (const auto& [fileName, contents] : plan.fastdFiles)
        plan.keepFastdFiles.insert(fileName);
    for (const auto& vpn : parsed->invalidVpns) {
        plan.keepNetworkFiles.merge(networkFileNames(vpn));
        plan.keepFastdFiles.merge(fastdFileNames(vpn));
        plan.errors.push_back(options.specPath + ": ignoring VPN " + quoted(vpn) +
                              "; its network files are kept as they are");
    }
    return plan;
}

} // namespace vpnsteer::generator
