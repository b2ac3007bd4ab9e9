#include "service/nat/iptc_snat_table.hpp"

// libiptc's header pulls in the kernel's x_tables headers; it must come before
// <linux/netfilter/nf_nat.h>, which relies on the types they define.
#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <libiptc/libiptc.h>
#include <linux/netfilter/nf_nat.h>
#include <memory>
#include <netinet/in.h>
#include <system_error>
#include <vector>

namespace vpnsteer::nat {

namespace {

constexpr const char* natTable = "nat";
constexpr const char* postrouting = "POSTROUTING";

struct HandleDeleter {
    void operator()(xtc_handle* handle) const { iptc_free(handle); }
};
using Handle = std::unique_ptr<xtc_handle, HandleDeleter>;

// libiptc keeps errno from the kernel and explains it with iptc_strerror() (e.g. "Table does
// not exist (do you need to insmod?)").
[[noreturn]] void fail(int error, const std::string& what) {
    throw std::system_error(error, std::generic_category(), what + ": " + iptc_strerror(error));
}

Handle open(const std::string& what) {
    Handle handle(iptc_init(natTable));
    if (!handle) {
        const int error = errno;
        fail(error, what + " (legacy iptables' nat table; does the kernel have ip_tables and "
                           "iptable_nat?)");
    }
    return handle;
}

std::string ipv4Text(in_addr address) {
    char text[INET_ADDRSTRLEN] = {};
    inet_ntop(AF_INET, &address, text, sizeof text);
    return text;
}

int prefixLength(in_addr mask) {
    return __builtin_popcount(mask.s_addr);
}

struct Subnet {
    in_addr address{};
    in_addr mask{};
};

Subnet parseSubnet(const std::string& cidr) {
    const auto slash = cidr.find('/');
    Subnet subnet;
    const int length = slash == std::string::npos ? 32 : std::stoi(cidr.substr(slash + 1));
    if (inet_pton(AF_INET, cidr.substr(0, slash).c_str(), &subnet.address) != 1 || length < 0 ||
        length > 32) {
        throw std::system_error(EINVAL, std::generic_category(),
                                "'" + cidr + "' is not an IPv4 subnet");
    }
    subnet.mask.s_addr = length == 0 ? 0 : htonl(~std::uint32_t{0} << (32 - length));
    subnet.address.s_addr &= subnet.mask.s_addr;
    return subnet;
}

// An ipt_entry with no matches and one target, as one buffer: the layout of x_tables
// (ip_tables.h): the entry, then the matches (none), then the target at target_offset.
class Entry {
public:
    Entry(const char* targetName, std::size_t targetDataSize) {
        const std::size_t entrySize = XT_ALIGN(sizeof(ipt_entry));
        const std::size_t targetSize = XT_ALIGN(sizeof(xt_entry_target)) + XT_ALIGN(targetDataSize);
        storage_.resize((entrySize + targetSize + sizeof(std::uint64_t) - 1) /
                        sizeof(std::uint64_t));
        entry()->target_offset = static_cast<std::uint16_t>(entrySize);
        entry()->next_offset = static_cast<std::uint16_t>(entrySize + targetSize);
        xt_entry_target* target = ipt_get_target(entry());
        target->u.user.target_size = static_cast<std::uint16_t>(targetSize);
        std::strncpy(target->u.user.name, targetName, sizeof target->u.user.name - 1);
    }

    ipt_entry* entry() { return reinterpret_cast<ipt_entry*>(storage_.data()); }
    void* targetData() { return ipt_get_target(entry())->data; }

private:
    // Zeroed and u64-aligned, as the kernel's structures want.
    std::vector<std::uint64_t> storage_;
};

Entry snatEntry(const SnatRule& rule) {
    Entry entry("SNAT", sizeof(nf_nat_ipv4_multi_range_compat));
    const Subnet source = parseSubnet(rule.source);
    entry.entry()->ip.src = source.address;
    entry.entry()->ip.smsk = source.mask;
    in_addr to{};
    if (inet_pton(AF_INET, rule.toSource.c_str(), &to) != 1) {
        throw std::system_error(EINVAL, std::generic_category(),
                                "'" + rule.toSource + "' is not an IPv4 address");
    }
    // SNAT revision 0, the IPv4 one: a "multi range" of exactly one range.
    auto* range = static_cast<nf_nat_ipv4_multi_range_compat*>(entry.targetData());
    range->rangesize = 1;
    range->range[0].flags = NF_NAT_RANGE_MAP_IPS;
    range->range[0].min_ip = to.s_addr;
    range->range[0].max_ip = to.s_addr;
    return entry;
}

// A jump to a user chain is a standard target named after the chain; libiptc turns the name
// into the chain's offset when it commits.
Entry jumpEntry() {
    return Entry(snatChain, sizeof(int));
}

SnatRule ruleOf(const ipt_entry* entry, xtc_handle* handle) {
    const char* target = iptc_get_target(entry, handle);
    const ipt_entry_target* data = ipt_get_target(const_cast<ipt_entry*>(entry));
    const bool plain = entry->target_offset == XT_ALIGN(sizeof(ipt_entry)) &&
                       entry->ip.iniface[0] == '\0' && entry->ip.outiface[0] == '\0' &&
                       entry->ip.proto == 0 && entry->ip.dmsk.s_addr == 0 &&
                       entry->ip.invflags == 0;
    if (plain && target != nullptr && std::strcmp(target, "SNAT") == 0) {
        const auto* range = reinterpret_cast<const nf_nat_ipv4_multi_range_compat*>(data->data);
        if (range->rangesize == 1 && range->range[0].flags == NF_NAT_RANGE_MAP_IPS &&
            range->range[0].min_ip == range->range[0].max_ip) {
            return SnatRule{ipv4Text(entry->ip.src) + "/" +
                                std::to_string(prefixLength(entry->ip.smsk)),
                            ipv4Text(in_addr{range->range[0].min_ip})};
        }
    }
    return SnatRule{std::string("a rule with target ") + (target ? target : "?") + " from " +
                        ipv4Text(entry->ip.src) + "/" +
                        std::to_string(prefixLength(entry->ip.smsk)),
                    "", true};
}

int countHooks(xtc_handle* handle) {
    int hooks = 0;
    for (const ipt_entry* entry = iptc_first_rule(postrouting, handle); entry != nullptr;
         entry = iptc_next_rule(entry, handle)) {
        const char* target = iptc_get_target(entry, handle);
        if (target != nullptr && std::strcmp(target, snatChain) == 0) {
            ++hooks;
        }
    }
    return hooks;
}

} // namespace

SnatChainState IptcSnatTable::read() {
    Handle handle = open("reading the nat table");
    SnatChainState state;
    if (!iptc_is_chain(snatChain, handle.get())) {
        return state;
    }
    for (const ipt_entry* entry = iptc_first_rule(snatChain, handle.get()); entry != nullptr;
         entry = iptc_next_rule(entry, handle.get())) {
        state.rules.push_back(ruleOf(entry, handle.get()));
    }
    state.hooks = countHooks(handle.get());
    return state;
}

void IptcSnatTable::write(const std::vector<SnatRule>& rules) {
    const std::string what = std::string("writing the nat chain ") + snatChain;
    Handle handle = open(what);
    xtc_handle* h = handle.get();
    if (!iptc_is_chain(snatChain, h)) {
        if (!iptc_create_chain(snatChain, h)) {
            fail(errno, what + " (creating it)");
        }
    } else if (!iptc_flush_entries(snatChain, h)) {
        fail(errno, what + " (flushing it)");
    }
    for (const SnatRule& rule : rules) {
        Entry entry = snatEntry(rule);
        if (!iptc_append_entry(snatChain, entry.entry(), h)) {
            fail(errno, what + " (appending " + rule.describe() + ")");
        }
    }
    // Every jump but one is removed, from the last so the numbers stay valid; the one left
    // goes first in POSTROUTING, ahead of a host's catch-all MASQUERADE.
    std::vector<unsigned int> jumps;
    unsigned int number = 0;
    for (const ipt_entry* entry = iptc_first_rule(postrouting, h); entry != nullptr;
         entry = iptc_next_rule(entry, h), ++number) {
        const char* target = iptc_get_target(entry, h);
        if (target != nullptr && std::strcmp(target, snatChain) == 0) {
            jumps.push_back(number);
        }
    }
    if (jumps.size() != 1 || jumps.front() != 0) {
        for (auto it = jumps.rbegin(); it != jumps.rend(); ++it) {
            if (!iptc_delete_num_entry(postrouting, *it, h)) {
                fail(errno, what + " (removing a jump from " + postrouting + ")");
            }
        }
        Entry jump = jumpEntry();
        if (!iptc_insert_entry(postrouting, jump.entry(), 0, h)) {
            fail(errno, what + std::string(" (hooking it into ") + postrouting + ")");
        }
    }
    if (!iptc_commit(h)) {
        fail(errno, what + " (committing the nat table)");
    }
}

} // namespace vpnsteer::nat
