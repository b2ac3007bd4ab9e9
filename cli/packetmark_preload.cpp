#include "cli/packetmark_preload.hpp"

namespace vpnsteer::cli {

std::map<std::string, std::string>
packetmarkEnvironment(const std::string& library, std::uint32_t mark,
                      const std::optional<std::string>& preload) {
    std::string value = library;
    if (preload && !preload->empty()) {
        value += " " + *preload;
    }
    return {{"LD_PRELOAD", value}, {"LIBPACKETMARK_MARK", std::to_string(mark)}};
}

WanMark wanMarkOf(const std::string& text) {
    const ParseResult parsed = parseSpec(text);
    WanMark result;
    result.mark = parsed.spec.wan.mark;
    for (const SpecError& error : parsed.errors) {
        if (parsed.rejected || error.isIn("wan")) {
            result.errors.push_back(error.toString());
        }
    }
    return result;
}

} // namespace vpnsteer::cli
