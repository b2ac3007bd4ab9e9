#include "service/fastd/status.hpp"

#include <nlohmann/json.hpp>
#include <stdexcept>

namespace vpnsteer::fastd {
namespace {

using Json = nlohmann::json;

std::uint64_t bytesOf(const Json& statistics, const char* direction) {
    const auto found = statistics.find(direction);
    if (found == statistics.end() || !found->is_object()) {
        return 0;
    }
    return found->value("bytes", std::uint64_t{0});
}

} // namespace

FastdStatus parseStatus(std::string_view json) {
    const Json document = Json::parse(json, nullptr, false);
    if (document.is_discarded() || !document.is_object()) {
        throw std::runtime_error("the fastd status is not a JSON object");
    }
    FastdStatus status;
    try {
        if (const auto statistics = document.find("statistics");
            statistics != document.end() && statistics->is_object()) {
            status.rxBytes = bytesOf(*statistics, "rx");
            status.txBytes = bytesOf(*statistics, "tx");
        }
        const auto peers = document.find("peers");
        if (peers == document.end() || !peers->is_object()) {
            return status;
        }
        for (const auto& [key, peer] : peers->items()) {
            if (!peer.is_object()) {
                continue;
            }
            const auto connection = peer.find("connection");
            if (connection == peer.end() || !connection->is_object()) {
                continue; // known but not connected: fastd writes null
            }
            status.connectedPeer = peer.value("name", key);
            status.address = peer.value("address", "");
            status.method = connection->value("method", "");
            status.establishedMilliseconds = connection->value("established", std::uint64_t{0});
            break;
        }
    } catch (const Json::exception& error) {
        throw std::runtime_error(std::string("the fastd status has a field of the wrong type: ") +
                                 error.what());
    }
    return status;
}

} // namespace vpnsteer::fastd
