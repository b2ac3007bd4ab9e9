// libFuzzer target for the spec parser: no input may crash it, and whatever it accepts must
// be safe to write into a unit file.
#include "core/spec.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

namespace {

void requireUnitSafe(std::string_view value) {
    for (unsigned char c : value)
        if (c < 0x20 || c == 0x7f)
            std::abort();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace vpnsteer;
    auto result = parseSpec(std::string_view(reinterpret_cast<const char*>(data), size));
    // Everything accepted must also be well-formed by the model's own rules.
    if (result.rejected && !result.spec.vpns.empty())
        std::abort();
    for (const auto& [name, vpn] : result.spec.vpns) {
        if (!isValidInterfaceName(vpn.name) || !isValidInterfaceName(vpn.bridge) ||
            vpn.id < 1 || vpn.id > 99 || result.invalidVpns.count(name))
            std::abort();
        requireUnitSafe(vpn.privateKeyFile);
        for (const auto& server : vpn.dns)
            requireUnitSafe(server);
        for (const auto& peer : vpn.peers) {
            if (!isValidWireguardKey(peer.publicKey) || peer.endpoint.port == 0)
                std::abort();
            requireUnitSafe(peer.endpoint.toString());
            if (peer.presharedKeyFile)
                requireUnitSafe(*peer.presharedKeyFile);
        }
    }
    return 0;
}
