// What vpnsteerd's libiptc tables share (iptc_snat_table, iptc_dns_redirect_table): the "nat"
// table of x_tables for IPv4 (libip4tc) or IPv6 (libip6tc) behind one interface, errors that
// quote libiptc's explanation, the builder of rule entries, and the hook of a chain of
// vpnsteerd's into a built-in chain.
//
// Private to service/nat. libiptc needs CAP_NET_ADMIN and CAP_NET_RAW (its raw socket).
#pragma once

// libiptc's headers pull in the kernel's x_tables headers; they must come before
// <linux/netfilter/nf_nat.h>, which relies on the types they define. libip6tc.h, unlike
// libiptc.h, declares its functions without extern "C".
#include <libiptc/libiptc.h>
extern "C" {
#include <libiptc/libip6tc.h>
}

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <memory>
#include <netinet/in.h>
#include <string>
#include <system_error>
#include <vector>

namespace vpnsteer::nat::iptc {

// libip4tc and libip6tc: the same functions under two prefixes, on two entry types.
struct Ipv4 {
    using Entry = ipt_entry;
    static xtc_handle* init(const char* table) { return iptc_init(table); }
    static void free(xtc_handle* h) { iptc_free(h); }
    static const char* strerror(int error) { return iptc_strerror(error); }
    static bool isChain(const char* chain, xtc_handle* h) { return iptc_is_chain(chain, h); }
    static bool createChain(const char* chain, xtc_handle* h) {
        return iptc_create_chain(chain, h);
    }
    static bool flush(const char* chain, xtc_handle* h) { return iptc_flush_entries(chain, h); }
    static const Entry* first(const char* chain, xtc_handle* h) {
        return iptc_first_rule(chain, h);
    }
    static const Entry* next(const Entry* e, xtc_handle* h) { return iptc_next_rule(e, h); }
    static const char* target(const Entry* e, xtc_handle* h) { return iptc_get_target(e, h); }
    static bool append(const char* chain, const Entry* e, xtc_handle* h) {
        return iptc_append_entry(chain, e, h);
    }
    static bool insert(const char* chain, const Entry* e, unsigned int n, xtc_handle* h) {
        return iptc_insert_entry(chain, e, n, h);
    }
    static bool remove(const char* chain, unsigned int n, xtc_handle* h) {
        return iptc_delete_num_entry(chain, n, h);
    }
    static bool commit(xtc_handle* h) { return iptc_commit(h); }
    static constexpr const char* modules = "ip_tables and iptable_nat";
};

struct Ipv6 {
    using Entry = ip6t_entry;
    static xtc_handle* init(const char* table) { return ip6tc_init(table); }
    static void free(xtc_handle* h) { ip6tc_free(h); }
    static const char* strerror(int error) { return ip6tc_strerror(error); }
    static bool isChain(const char* chain, xtc_handle* h) { return ip6tc_is_chain(chain, h); }
    static bool createChain(const char* chain, xtc_handle* h) {
        return ip6tc_create_chain(chain, h);
    }
    static bool flush(const char* chain, xtc_handle* h) { return ip6tc_flush_entries(chain, h); }
    static const Entry* first(const char* chain, xtc_handle* h) {
        return ip6tc_first_rule(chain, h);
    }
    static const Entry* next(const Entry* e, xtc_handle* h) { return ip6tc_next_rule(e, h); }
    static const char* target(const Entry* e, xtc_handle* h) { return ip6tc_get_target(e, h); }
    static bool append(const char* chain, const Entry* e, xtc_handle* h) {
        return ip6tc_append_entry(chain, e, h);
    }
    static bool insert(const char* chain, const Entry* e, unsigned int n, xtc_handle* h) {
        return ip6tc_insert_entry(chain, e, n, h);
    }
    static bool remove(const char* chain, unsigned int n, xtc_handle* h) {
        return ip6tc_delete_num_entry(chain, n, h);
    }
    static bool commit(xtc_handle* h) { return ip6tc_commit(h); }
    static constexpr const char* modules = "ip6_tables and ip6table_nat";
};

// A rule entry as one zeroed, u64-aligned buffer in the layout of x_tables (ip_tables.h,
// ip6_tables.h): the entry, its matches in the order added, then the target at target_offset.
template <typename Family>
class Entry {
public:
    using Raw = typename Family::Entry;

    // Adds a match; returns its data (dataSize bytes, zeroed) to fill in.
    void* addMatch(const char* name, std::size_t dataSize, std::uint8_t revision = 0) {
        const std::size_t size = XT_ALIGN(sizeof(xt_entry_match)) + XT_ALIGN(dataSize);
        auto* match = static_cast<xt_entry_match*>(grow(size));
        match->u.user.match_size = static_cast<std::uint16_t>(size);
        match->u.user.revision = revision;
        std::strncpy(match->u.user.name, name, sizeof match->u.user.name - 1);
        entry()->target_offset = entry()->next_offset = static_cast<std::uint16_t>(used_);
        return match->data;
    }
    // Sets the target; returns its data to fill in. Call after the matches.
    void* setTarget(const char* name, std::size_t dataSize, std::uint8_t revision = 0) {
        const std::size_t size = XT_ALIGN(sizeof(xt_entry_target)) + XT_ALIGN(dataSize);
        const auto offset = static_cast<std::uint16_t>(used_);
        auto* target = static_cast<xt_entry_target*>(grow(size));
        entry()->target_offset = offset;
        entry()->next_offset = static_cast<std::uint16_t>(used_);
        target->u.user.target_size = static_cast<std::uint16_t>(size);
        target->u.user.revision = revision;
        std::strncpy(target->u.user.name, name, sizeof target->u.user.name - 1);
        return target->data;
    }
    Raw* entry() { return reinterpret_cast<Raw*>(storage_.data()); }

private:
    void* grow(std::size_t size) {
        const std::size_t offset = used_;
        used_ += size;
        storage_.resize((used_ + sizeof(std::uint64_t) - 1) / sizeof(std::uint64_t));
        return reinterpret_cast<unsigned char*>(storage_.data()) + offset;
    }

    std::vector<std::uint64_t> storage_ =
        std::vector<std::uint64_t>(XT_ALIGN(sizeof(Raw)) / sizeof(std::uint64_t));
    std::size_t used_ = XT_ALIGN(sizeof(Raw));
};

// A fresh snapshot of the nat table of one family; every write goes to the kernel at once in
// commit() (IPT_SO_SET_REPLACE): the atomic commit. Each method throws std::system_error that
// names `what` it was doing and libiptc's explanation.
template <typename Family>
class NatTable {
public:
    using Raw = typename Family::Entry;

    explicit NatTable(const std::string& what)
        : what_(what)
        , handle_(Family::init("nat"), &Family::free) {
        if (!handle_) {
            fail(errno, std::string(" (legacy iptables' nat table; does the kernel have ") +
                            Family::modules + "?)");
        }
    }

    bool hasChain(const char* chain) { return Family::isChain(chain, handle_.get()); }
    // Calls visit(entry, target name or nullptr) for each rule of `chain`, in order.
    template <typename Visit>
    void forEachRule(const char* chain, Visit&& visit) {
        for (const Raw* e = Family::first(chain, handle_.get()); e != nullptr;
             e = Family::next(e, handle_.get())) {
            visit(e, Family::target(e, handle_.get()));
        }
    }
    // How many rules of `from` jump to `chain`.
    int countJumps(const char* from, const char* chain) {
        int jumps = 0;
        forEachRule(from, [&](const Raw*, const char* target) {
            jumps += target != nullptr && std::strcmp(target, chain) == 0 ? 1 : 0;
        });
        return jumps;
    }
    // Creates `chain`, or empties it when it exists.
    void resetChain(const char* chain) {
        if (!hasChain(chain)) {
            check(Family::createChain(chain, handle_.get()), " (creating it)");
        } else {
            check(Family::flush(chain, handle_.get()), " (flushing it)");
        }
    }
    void append(const char* chain, Entry<Family>& entry, const std::string& rule) {
        check(Family::append(chain, entry.entry(), handle_.get()), " (appending " + rule + ")");
    }
    // Leaves exactly one jump from `from` to `chain`, first in `from`, ahead of whatever the
    // host has there.
    void hookFirst(const char* from, const char* chain) {
        std::vector<unsigned int> jumps;
        unsigned int number = 0;
        forEachRule(from, [&](const Raw*, const char* target) {
            if (target != nullptr && std::strcmp(target, chain) == 0) {
                jumps.push_back(number);
            }
            ++number;
        });
        if (jumps.size() == 1 && jumps.front() == 0) {
            return;
        }
        // From the last, so the numbers stay valid.
        for (auto it = jumps.rbegin(); it != jumps.rend(); ++it) {
            check(Family::remove(from, *it, handle_.get()),
                  std::string(" (removing a jump from ") + from + ")");
        }
        // A jump is a standard target named after the chain; libiptc turns the name into the
        // chain's offset when it commits.
        Entry<Family> jump;
        jump.setTarget(chain, sizeof(int));
        check(Family::insert(from, jump.entry(), 0, handle_.get()),
              std::string(" (hooking it into ") + from + ")");
    }
    void commit() { check(Family::commit(handle_.get()), " (committing the nat table)"); }

private:
    void check(bool done, const std::string& step) {
        if (!done) {
            fail(errno, step);
        }
    }
    [[noreturn]] void fail(int error, const std::string& step) {
        throw std::system_error(error, std::generic_category(),
                                what_ + step + ": " + Family::strerror(error));
    }

    std::string what_;
    std::unique_ptr<xtc_handle, void (*)(xtc_handle*)> handle_;
};

std::string ipv4Text(in_addr address);
std::string ipv6Text(const in6_addr& address);
int prefixLength(in_addr mask);

// An IPv4 "ADDRESS/LENGTH" (or a lone address: /32), the address masked. Throws
// std::system_error (EINVAL) quoting `cidr`.
struct Subnet {
    in_addr address{};
    in_addr mask{};
};
Subnet parseSubnet(const std::string& cidr);
// An IPv6 address; throws std::system_error (EINVAL) quoting it.
in6_addr parseIpv6(const std::string& text);

} // namespace vpnsteer::nat::iptc
