// The live figures of a VPN's tunnel that org.vpnsteer1.Vpn shows (PublicKey, Endpoint,
// LatestHandshake, RxBytes, TxBytes). service/wireguard keeps them; the D-Bus objects only
// read them, so the objects stay free of any device code.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace vpnsteer::dbus {

struct TunnelFigures {
    std::string publicKey; // base64; "" while unknown
    std::string endpoint;  // the address in use, "192.0.2.1:51820"; "" while unknown
    std::uint64_t latestHandshake = 0;
    std::uint64_t rxBytes = 0;
    std::uint64_t txBytes = 0;
};

class TunnelFiguresSource {
public:
    // nullopt for a VPN it does not know (a fastd one, say). Never throws.
    virtual std::optional<TunnelFigures> tunnelFigures(const std::string& vpn) = 0;

protected:
    ~TunnelFiguresSource() = default;
};

} // namespace vpnsteer::dbus
