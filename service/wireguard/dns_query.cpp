#include "service/wireguard/dns_query.hpp"

#include <cstring>
#include <sys/socket.h>

namespace vpnsteer::wireguard {

namespace {

void putU16(std::vector<std::uint8_t>& out, std::uint16_t value) {
    out.push_back(static_cast<std::uint8_t>(value >> 8));
    out.push_back(static_cast<std::uint8_t>(value & 0xff));
}

struct Reader {
    const std::uint8_t* data;
    std::size_t size;
    std::size_t at = 0;

    bool u16(std::uint16_t& value) {
        if (at + 2 > size) {
            return false;
        }
        value = static_cast<std::uint16_t>(data[at] << 8 | data[at + 1]);
        at += 2;
        return true;
    }
    // Skips a name: labels ending in a zero byte or a compression pointer (RFC 1035 4.1.4).
    bool skipName() {
        while (at < size) {
            const std::uint8_t length = data[at];
            if (length == 0) {
                ++at;
                return true;
            }
            if ((length & 0xc0) == 0xc0) {
                at += 2;
                return at <= size;
            }
            if ((length & 0xc0) != 0) {
                return false;
            }
            at += 1 + length;
        }
        return false;
    }
};

} // namespace

std::optional<std::vector<std::uint8_t>> encodeDnsQuery(std::uint16_t id, std::string_view name,
                                                        std::uint16_t type) {
    if (!name.empty() && name.back() == '.') {
        name.remove_suffix(1);
    }
    if (name.empty() || name.size() > 253) {
        return std::nullopt;
    }
    std::vector<std::uint8_t> query;
    putU16(query, id);
    putU16(query, 0x0100); // a standard query, recursion desired
    putU16(query, 1);      // one question
    putU16(query, 0);
    putU16(query, 0);
    putU16(query, 0);
    while (!name.empty()) {
        const std::size_t dot = name.find('.');
        const std::string_view label = name.substr(0, dot);
        if (label.empty() || label.size() > 63) {
            return std::nullopt;
        }
        query.push_back(static_cast<std::uint8_t>(label.size()));
        query.insert(query.end(), label.begin(), label.end());
        name = dot == std::string_view::npos ? std::string_view() : name.substr(dot + 1);
    }
    query.push_back(0);
    putU16(query, type);
    putU16(query, 1); // class IN
    return query;
}

std::optional<DnsAnswer> parseDnsAnswer(const std::uint8_t* data, std::size_t size) {
    Reader reader{data, size};
    DnsAnswer answer;
    std::uint16_t flags = 0, questions = 0, answers = 0, authority = 0, additional = 0;
    if (!reader.u16(answer.id) || !reader.u16(flags) || !reader.u16(questions) ||
        !reader.u16(answers) || !reader.u16(authority) || !reader.u16(additional)) {
        return std::nullopt;
    }
    if ((flags & 0x8000) == 0) {
        return std::nullopt; // a query, not a response
    }
    answer.truncated = (flags & 0x0200) != 0;
    answer.rcode = flags & 0x000f;
    for (std::uint16_t i = 0; i < questions; ++i) {
        std::uint16_t type = 0, klass = 0;
        if (!reader.skipName() || !reader.u16(type) || !reader.u16(klass)) {
            return std::nullopt;
        }
    }
    for (std::uint16_t i = 0; i < answers; ++i) {
        std::uint16_t type = 0, klass = 0, ttlHigh = 0, ttlLow = 0, length = 0;
        if (!reader.skipName() || !reader.u16(type) || !reader.u16(klass) || !reader.u16(ttlHigh) ||
            !reader.u16(ttlLow) || !reader.u16(length) || reader.at + length > size) {
            return std::nullopt;
        }
        ResolvedAddress address;
        if (klass == 1 && type == dnsTypeA && length == 4) {
            address.family = AF_INET;
        } else if (klass == 1 && type == dnsTypeAaaa && length == 16) {
            address.family = AF_INET6;
        }
        if (address.family != 0) {
            std::memcpy(address.address.data(), data + reader.at, length);
            answer.addresses.push_back(address);
        }
        reader.at += length;
    }
    return answer;
}

} // namespace vpnsteer::wireguard
