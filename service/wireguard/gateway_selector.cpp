#include "service/wireguard/gateway_selector.hpp"

#include <algorithm>
#include <numeric>
#include <utility>

namespace vpnsteer::wireguard {

std::string_view toString(PeerResult result) {
    switch (result) {
    case PeerResult::untried:
        return "untried";
    case PeerResult::trying:
        return "trying";
    case PeerResult::alive:
        return "alive";
    case PeerResult::noHandshake:
        return "no handshake";
    case PeerResult::silent:
        return "silent";
    case PeerResult::unresolved:
        return "unresolved";
    }
    return "?";
}

GatewaySelector::GatewaySelector(std::size_t peerCount, FailoverSettings settings, Random random)
    : settings_(settings)
    , random_(std::move(random))
    , addresses_(peerCount)
    , failedAt_(peerCount) {}

void GatewaySelector::newRound() {
    order_.resize(addresses_.size());
    std::iota(order_.begin(), order_.end(), std::size_t{0});
    // Fisher-Yates.
    for (std::size_t i = order_.size(); i > 1; --i) {
        std::swap(order_[i - 1], order_[random_(i)]);
    }
    // Stable: peers that failed equally long ago (never, say) keep their random order.
    std::stable_sort(order_.begin(), order_.end(), [this](std::size_t a, std::size_t b) {
        return failedAt_[a] < failedAt_[b]; // nullopt (never) first
    });
    // Across the boundary of two rounds the same peer would be tried twice in a row.
    if (order_.size() > 1 && last_ == order_.front()) {
        std::swap(order_[0], order_[1]); // the next best; a random one among equals
    }
    position_ = 0;
}

std::size_t GatewaySelector::nextPeer() {
    if (position_ >= order_.size()) {
        newRound();
    }
    last_ = order_[position_++];
    return *last_;
}

void GatewaySelector::adopt(std::size_t peer) {
    last_.reset();
    newRound();
    std::iter_swap(order_.begin(), std::find(order_.begin(), order_.end(), peer));
    position_ = 1;
    last_ = peer;
}

void GatewaySelector::resolvedAddresses(std::size_t peer, std::vector<ResolvedAddress> addresses) {
    Addresses& entry = addresses_.at(peer);
    std::vector<bool> used(addresses.size(), false);
    for (std::size_t i = 0; i < addresses.size(); ++i) {
        for (std::size_t j = 0; j < entry.known.size(); ++j) {
            used[i] = used[i] || (entry.known[j] == addresses[i] && entry.used[j]);
        }
    }
    if (std::all_of(used.begin(), used.end(), [](bool u) { return u; })) {
        used.assign(used.size(), false);
    }
    entry.known = std::move(addresses);
    entry.used = std::move(used);
}

std::optional<ResolvedAddress> GatewaySelector::takeAddress(std::size_t peer) {
    Addresses& entry = addresses_.at(peer);
    std::vector<std::size_t> fresh;
    for (std::size_t i = 0; i < entry.known.size(); ++i) {
        if (!entry.used[i]) {
            fresh.push_back(i);
        }
    }
    if (fresh.empty()) {
        return std::nullopt;
    }
    const std::size_t chosen = fresh[random_(fresh.size())];
    entry.used[chosen] = true;
    return entry.known[chosen];
}

void GatewaySelector::installed(const PeerCounters& counters, Clock::time_point now) {
    installedAt_ = now;
    start_ = counters;
    seen_ = counters;
    handshaken_ = false;
    lastReceive_ = now;
    lastSend_ = now;
    lastProbe_.reset();
}

Judgement GatewaySelector::observe(const PeerCounters& counters, Clock::time_point now) {
    Judgement judgement;
    const bool received = counters.rxBytes != seen_.rxBytes;
    if (received) {
        lastReceive_ = now;
    }
    if (counters.txBytes != seen_.txBytes) {
        lastSend_ = now;
    }
    seen_ = counters;
    // A peer adopted with a session of its own shows it is alive by answering.
    const bool handshake =
        (counters.latestHandshake != 0 && counters.latestHandshake != start_.latestHandshake) ||
        (start_.latestHandshake != 0 && received);
    if (!handshaken_ && handshake) {
        handshaken_ = true;
        judgement.becameAlive = true;
    }
    const auto seconds = [](int value) { return std::chrono::seconds(value); };
    if (!handshaken_) {
        if (now - installedAt_ >= seconds(settings_.handshakeTimeout)) {
            // A peer that had a session when its judging began has gone silent; one that
            // never had one did not handshake (which a wrong clock can cause).
            judgement.dead =
                start_.latestHandshake != 0 ? PeerResult::silent : PeerResult::noHandshake;
        }
    } else if (lastSend_ > lastReceive_ &&
               now - lastReceive_ >= seconds(settings_.silenceTimeout)) {
        judgement.dead = PeerResult::silent;
    }
    if (judgement.dead) {
        if (last_) {
            failedAt_[*last_] = now;
        }
        return judgement;
    }
    // Before the first handshake the probe is what makes WireGuard initiate one.
    const bool quiet = !handshaken_ || now - lastReceive_ >= seconds(settings_.probeInterval);
    if (quiet && (!lastProbe_ || now - *lastProbe_ >= seconds(settings_.probeInterval))) {
        judgement.probe = true;
        lastProbe_ = now;
    }
    return judgement;
}

} // namespace vpnsteer::wireguard
