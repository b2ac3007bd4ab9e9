// libFuzzer target for the spec parser and the generator's renderer: no input may crash
// them, and whatever the parser accepts must render into well-formed unit files, where
// no value can start a line, a section or a continuation of its own.
#include "core/spec.hpp"
#include "generator/render.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string_view>

namespace {

using namespace vpnsteer;

bool isKeyCharacter(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

// Every line is blank, a comment, a known [Section], or Key=Value with a plain key and a
// value free of control characters and a trailing backslash.
void requireWellFormed(std::string_view text) {
    static const std::set<std::string_view> sections = {
        "[Match]",  "[Link]",      "[Network]",       "[Route]", "[RoutingPolicyRule]",
        "[NetDev]", "[WireGuard]", "[WireGuardPeer]", "[Unit]",  "[Service]",
        "[Install]"};
    while (!text.empty()) {
        std::size_t end = text.find('\n');
        if (end == std::string_view::npos)
            std::abort(); // every file ends with a newline
        std::string_view line = text.substr(0, end);
        text.remove_prefix(end + 1);
        if (line.empty() || line.front() == '#')
            continue;
        if (line.front() == '[') {
            if (!sections.count(line))
                std::abort();
            continue;
        }
        std::size_t equals = line.find('=');
        if (equals == 0 || equals == std::string_view::npos)
            std::abort();
        for (char c : line.substr(0, equals))
            if (!isKeyCharacter(c))
                std::abort();
        for (unsigned char c : line)
            if (c < 0x20 || c == 0x7f)
                std::abort();
        if (line.back() == '\\')
            std::abort();
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto result = parseSpec(std::string_view(reinterpret_cast<const char*>(data), size));
    if (result.rejected && !result.spec.vpns.empty())
        std::abort();
    for (const auto& [name, vpn] : result.spec.vpns)
        if (!isValidInterfaceName(vpn.name) || !isValidInterfaceName(vpn.bridge) || vpn.id < 1 ||
            vpn.id > 99 || result.invalidVpns.count(name))
            std::abort();

    for (bool kernel : {true, false}) {
        generator::RenderOptions options{"/etc/vpnsteer/vpns.json", "/usr/bin/vpnsteer", kernel};
        for (const auto& [file, text] : generator::renderNetworkFiles(result.spec, options))
            requireWellFormed(text);
        for (const auto& [file, text] :
             generator::renderUnitFiles(result.spec, result.invalidVpns, options))
            requireWellFormed(text);
    }
    return 0;
}
