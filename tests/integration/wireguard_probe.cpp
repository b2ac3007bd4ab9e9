// Drives one WireGuard device through vpnsteerd's UapiWireguardDevice, for
// wireguard-uapi.sh, which checks the result with `wg show` and real traffic.
//
//   wireguard-probe NAME configure PRIVATE_KEY_FILE MARK PORT PEER_KEY ENDPOINT PSK_FILE KEEPALIVE
//   wireguard-probe NAME endpoint PEER_KEY ENDPOINT
//   wireguard-probe NAME status
#include "service/wireguard/uapi_device.hpp"

#include <cstdio>
#include <exception>
#include <stdexcept>
#include <string>
#include <string_view>

using namespace vpnsteer::wireguard;

namespace {

WireguardKey base64Key(const char* text) {
    auto key = decodeBase64Key(text);
    if (!key) {
        throw std::runtime_error(std::string("not a key: ") + text);
    }
    return *key;
}

IpEndpoint endpoint(const char* text) {
    auto endpoint = IpEndpoint::parse(text);
    if (!endpoint) {
        throw std::runtime_error(std::string("not an endpoint: ") + text);
    }
    return *endpoint;
}

} // namespace

int main(int argc, char* argv[]) {
    try {
        const std::string_view command = argc > 2 ? argv[2] : "";
        UapiWireguardDevice device(argc > 1 ? argv[1] : "");
        if (command == "configure" && argc == 10) {
            DeviceChange change;
            change.privateKey = readKeyFile(argv[3]);
            change.firewallMark = static_cast<std::uint32_t>(std::stoul(argv[4]));
            change.listenPort = static_cast<std::uint16_t>(std::stoul(argv[5]));
            change.replacePeer =
                PeerSettings{base64Key(argv[6]), endpoint(argv[7]), readKeyFile(argv[8]),
                             static_cast<std::uint16_t>(std::stoul(argv[9]))};
            device.apply(change);
        } else if (command == "endpoint" && argc == 5) {
            device.updateEndpoint(base64Key(argv[3]), endpoint(argv[4]));
        } else if (command == "status" && argc == 3) {
            const DeviceStatus status = device.status();
            std::printf("public_key=%s\nlisten_port=%u\nfwmark=%u\n",
                        status.publicKey ? toBase64(*status.publicKey).c_str() : "(none)",
                        status.listenPort, status.firewallMark);
            for (const PeerStatus& peer : status.peers) {
                std::printf("peer=%s endpoint=%s handshake=%llu rx=%llu tx=%llu\n",
                            toBase64(peer.publicKey).c_str(),
                            peer.endpoint ? peer.endpoint->toString().c_str() : "(none)",
                            static_cast<unsigned long long>(peer.latestHandshake),
                            static_cast<unsigned long long>(peer.rxBytes),
                            static_cast<unsigned long long>(peer.txBytes));
            }
        } else {
            std::fprintf(stderr, "usage: see the top of wireguard_probe.cpp\n");
            return 2;
        }
    } catch (const std::exception& error) {
        std::fprintf(stderr, "wireguard-probe: %s\n", error.what());
        return 1;
    }
    return 0;
}
