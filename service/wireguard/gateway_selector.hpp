// Gateway selection for a WireGuard VPN of several peers (issue 7, docs/gateways.md): which
// peer is tried next, which address of a host-name peer, and when the active peer is dead.
//
// Pure: the clock and the random numbers come in as arguments, and nothing here touches a
// device. WireguardTunnels installs what this class chooses and feeds it the device's
// counters once a second.
//
// Order. Peers are tried in a random order, each once per round. Random rather than
// fixed so that many clients spread over a provider's gateways (wgpeerselector does the
// same). Each new round draws a new order, then puts the peers that failed last at its end
// (those never found dead first, then the longest dead): a gateway that just failed is the
// least likely to work, so one dead gateway costs a failover at most one attempt, also
// across a round's end. The peer that ended a round never begins the next. A host-name peer gets a
// random address of its latest resolution not used yet; once all are used it needs resolving again
// (through the uplink, by the caller).
//
// Liveness. WireGuard gives three figures per peer: the time of the latest handshake and
// the bytes received and sent. A peer installed from scratch has never handshaken; one
// that does not within handshakeTimeout is dead ("no handshake"). A peer whose judging
// begins while it has a session already (vpnsteerd restarted, or the first sample came
// late) must answer within handshakeTimeout, or it is dead as "silent". A peer that did is dead
// once packets went towards it but nothing came back for silenceTimeout ("silent"). A tunnel
// nobody uses sends nothing, so that rule alone could not judge it: whenever nothing came
// back for probeInterval, the caller sends a probe through the tunnel (a DNS query, which
// the VPN's resolver answers). WireGuard peers do not answer a bare keepalive, but they do
// answer a handshake initiation, and they send a keepalive of their own 10 s after data that
// they had no reply for (KEEPALIVE_TIMEOUT), so a live peer makes the receive counter move
// within that time even when its resolver is down. The handshake is judged by its change,
// never by comparing it with the system clock, which may be wrong (the clock section of
// docs/gateways.md).
#pragma once

#include "core/spec.hpp"
#include "service/wireguard/endpoint_resolver.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vpnsteer::wireguard {

using Clock = std::chrono::steady_clock;

// What the latest judgement of a peer said.
enum class PeerResult {
    untried,     // not installed since the spec came
    trying,      // installed, no handshake yet
    alive,       // installed, handshaken and answering
    noHandshake, // dropped: no handshake within handshakeTimeout
    silent,      // dropped: nothing received for silenceTimeout while sending
    unresolved,  // skipped: its host name did not resolve
};
// "untried", "trying", "alive", "no handshake", "silent", "unresolved": the words on D-Bus.
std::string_view toString(PeerResult result);

// One peer's counters as the device reports them.
struct PeerCounters {
    std::uint64_t latestHandshake = 0; // seconds since the epoch, 0 for never
    std::uint64_t rxBytes = 0;
    std::uint64_t txBytes = 0;
};

// What the caller does after a sample.
struct Judgement {
    bool probe = false;             // send a probe through the tunnel now
    std::optional<PeerResult> dead; // the active peer is dead, for this reason
    bool becameAlive = false;       // its first handshake since it was installed
};

class GatewaySelector {
public:
    // A number in [0, bound), uniformly; bound > 0.
    using Random = std::function<std::size_t(std::size_t bound)>;

    GatewaySelector(std::size_t peerCount, FailoverSettings settings, Random random);

    // The peer to try next. Each peer once per round, in the round's random order.
    std::size_t nextPeer();
    // Starts the round with `peer` already tried (vpnsteerd restarted and found it on the
    // device: it stays, rather than a needless switch).
    void adopt(std::size_t peer);

    // The latest resolution of a host-name peer. Addresses already used stay used while
    // the name still has them; when every address is used, all become fresh again.
    void resolvedAddresses(std::size_t peer, std::vector<ResolvedAddress> addresses);
    // A random address of `peer` not used yet, now marked used; nullopt when there is none
    // left (or none known): resolve the name again.
    std::optional<ResolvedAddress> takeAddress(std::size_t peer);

    // The active peer got an endpoint (installed, or moved to another address): its judging
    // starts from these counters.
    void installed(const PeerCounters& counters, Clock::time_point now);
    // A sample of the active peer's counters.
    Judgement observe(const PeerCounters& counters, Clock::time_point now);

    const FailoverSettings& settings() const { return settings_; }

private:
    struct Addresses {
        std::vector<ResolvedAddress> known;
        std::vector<bool> used;
    };

    void newRound();

    FailoverSettings settings_;
    Random random_;
    std::vector<std::size_t> order_; // this round's order
    std::size_t position_ = 0;       // the next in order_
    std::optional<std::size_t> last_;
    std::vector<Addresses> addresses_;
    std::vector<std::optional<Clock::time_point>> failedAt_; // each peer's latest death

    // The active peer's judging.
    Clock::time_point installedAt_{};
    PeerCounters start_;
    PeerCounters seen_;
    bool handshaken_ = false;
    Clock::time_point lastReceive_{};
    Clock::time_point lastSend_{};
    std::optional<Clock::time_point> lastProbe_;
};

} // namespace vpnsteer::wireguard
