#include "service/nat/iptc.hpp"

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <exception>
#include <system_error>

namespace vpnsteer::nat::iptc {

namespace {

constexpr const char* natTable = "nat";

} // namespace

void fail(int error, const std::string& what) {
    throw std::system_error(error, std::generic_category(), what + ": " + iptc_strerror(error));
}

Handle openNat(const std::string& what) {
    Handle handle(iptc_init(natTable));
    if (!handle) {
        const int error = errno;
        fail(error, what + " (legacy iptables' nat table; does the kernel have ip_tables and "
                           "iptable_nat?)");
    }
    return handle;
}

std::size_t Entry::grow(std::size_t size) {
    const std::size_t offset = used_;
    used_ += size;
    storage_.resize((used_ + sizeof(std::uint64_t) - 1) / sizeof(std::uint64_t));
    return offset;
}

void* Entry::addMatch(const char* name, std::size_t dataSize, std::uint8_t revision) {
    const std::size_t size = XT_ALIGN(sizeof(xt_entry_match)) + XT_ALIGN(dataSize);
    const std::size_t offset = grow(size);
    auto* match = reinterpret_cast<xt_entry_match*>(
        reinterpret_cast<unsigned char*>(storage_.data()) + offset);
    match->u.user.match_size = static_cast<std::uint16_t>(size);
    match->u.user.revision = revision;
    std::strncpy(match->u.user.name, name, sizeof match->u.user.name - 1);
    entry()->target_offset = static_cast<std::uint16_t>(used_);
    entry()->next_offset = static_cast<std::uint16_t>(used_);
    return match->data;
}

void* Entry::setTarget(const char* name, std::size_t dataSize, std::uint8_t revision) {
    const std::size_t size = XT_ALIGN(sizeof(xt_entry_target)) + XT_ALIGN(dataSize);
    const std::size_t offset = grow(size);
    entry()->target_offset = static_cast<std::uint16_t>(offset);
    entry()->next_offset = static_cast<std::uint16_t>(used_);
    xt_entry_target* target = ipt_get_target(entry());
    target->u.user.target_size = static_cast<std::uint16_t>(size);
    target->u.user.revision = revision;
    std::strncpy(target->u.user.name, name, sizeof target->u.user.name - 1);
    return target->data;
}

Entry jumpTo(const char* chain) {
    Entry entry;
    entry.setTarget(chain, sizeof(int));
    return entry;
}

int countJumps(xtc_handle* handle, const char* from, const char* chain) {
    int jumps = 0;
    for (const ipt_entry* entry = iptc_first_rule(from, handle); entry != nullptr;
         entry = iptc_next_rule(entry, handle)) {
        const char* target = iptc_get_target(entry, handle);
        if (target != nullptr && std::strcmp(target, chain) == 0) {
            ++jumps;
        }
    }
    return jumps;
}

void resetChain(xtc_handle* handle, const char* chain, const std::string& what) {
    if (!iptc_is_chain(chain, handle)) {
        if (!iptc_create_chain(chain, handle)) {
            fail(errno, what + " (creating it)");
        }
    } else if (!iptc_flush_entries(chain, handle)) {
        fail(errno, what + " (flushing it)");
    }
}

void hookFirst(xtc_handle* handle, const char* from, const char* chain, const std::string& what) {
    // Every jump but one is removed, from the last so the numbers stay valid; the one left
    // goes first, ahead of whatever the host has there.
    std::vector<unsigned int> jumps;
    unsigned int number = 0;
    for (const ipt_entry* entry = iptc_first_rule(from, handle); entry != nullptr;
         entry = iptc_next_rule(entry, handle), ++number) {
        const char* target = iptc_get_target(entry, handle);
        if (target != nullptr && std::strcmp(target, chain) == 0) {
            jumps.push_back(number);
        }
    }
    if (jumps.size() == 1 && jumps.front() == 0) {
        return;
    }
    for (auto it = jumps.rbegin(); it != jumps.rend(); ++it) {
        if (!iptc_delete_num_entry(from, *it, handle)) {
            fail(errno, what + " (removing a jump from " + from + ")");
        }
    }
    Entry jump = jumpTo(chain);
    if (!iptc_insert_entry(from, jump.entry(), 0, handle)) {
        fail(errno, what + " (hooking it into " + from + ")");
    }
}

void commit(xtc_handle* handle, const std::string& what) {
    if (!iptc_commit(handle)) {
        fail(errno, what + " (committing the nat table)");
    }
}

std::string ipv4Text(in_addr address) {
    char text[INET_ADDRSTRLEN] = {};
    inet_ntop(AF_INET, &address, text, sizeof text);
    return text;
}

Subnet parseSubnet(const std::string& cidr) {
    const auto slash = cidr.find('/');
    Subnet subnet;
    int length = 32;
    if (slash != std::string::npos) {
        try {
            length = std::stoi(cidr.substr(slash + 1));
        } catch (const std::exception&) {
            length = -1;
        }
    }
    if (inet_pton(AF_INET, cidr.substr(0, slash).c_str(), &subnet.address) != 1 || length < 0 ||
        length > 32) {
        throw std::system_error(EINVAL, std::generic_category(),
                                "'" + cidr + "' is not an IPv4 subnet");
    }
    subnet.mask.s_addr = length == 0 ? 0 : htonl(~std::uint32_t{0} << (32 - length));
    subnet.address.s_addr &= subnet.mask.s_addr;
    return subnet;
}

int prefixLength(in_addr mask) {
    return __builtin_popcount(mask.s_addr);
}

} // namespace vpnsteer::nat::iptc
