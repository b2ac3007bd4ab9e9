// What vpnsteerd's libiptc tables share (iptc_snat_table, iptc_dns_redirect_table): the handle
// of the x_tables "nat" table, errors that quote libiptc's explanation, the builder of rule
// entries, and the hook of a chain of vpnsteerd's into a built-in chain.
//
// Private to service/nat. libiptc needs CAP_NET_ADMIN and CAP_NET_RAW (its raw socket).
#pragma once

// libiptc's header pulls in the kernel's x_tables headers; it must come before
// <linux/netfilter/nf_nat.h>, which relies on the types they define.
#include <cstdint>
#include <libiptc/libiptc.h>
#include <memory>
#include <string>
#include <vector>

namespace vpnsteer::nat::iptc {

struct HandleDeleter {
    void operator()(xtc_handle* handle) const { iptc_free(handle); }
};
using Handle = std::unique_ptr<xtc_handle, HandleDeleter>;

// Throws std::system_error: `what`, then libiptc's text for `error` (e.g. "Table does not exist
// (do you need to insmod?)").
[[noreturn]] void fail(int error, const std::string& what);

// A fresh snapshot of the nat table. Throws std::system_error naming `what`.
Handle openNat(const std::string& what);

// An ipt_entry as one zeroed, u64-aligned buffer in the layout of x_tables (ip_tables.h): the
// entry, its matches in the order added, then the target at target_offset.
class Entry {
public:
    Entry() = default;
    // Adds a match; returns its data (dataSize bytes, zeroed) to fill in.
    void* addMatch(const char* name, std::size_t dataSize, std::uint8_t revision = 0);
    // Sets the target; returns its data to fill in. Call after the matches.
    void* setTarget(const char* name, std::size_t dataSize, std::uint8_t revision = 0);
    ipt_entry* entry() { return reinterpret_cast<ipt_entry*>(storage_.data()); }

private:
    // Appends `size` zeroed bytes (already aligned) and returns their offset.
    std::size_t grow(std::size_t size);

    std::vector<std::uint64_t> storage_ =
        std::vector<std::uint64_t>(XT_ALIGN(sizeof(ipt_entry)) / sizeof(std::uint64_t));
    std::size_t used_ = XT_ALIGN(sizeof(ipt_entry));
};

// A jump to `chain`: a standard target named after the chain, which libiptc turns into the
// chain's offset when it commits.
Entry jumpTo(const char* chain);

// How many rules of `from` jump to `chain`.
int countJumps(xtc_handle* handle, const char* from, const char* chain);
// Creates `chain`, or empties it when it exists.
void resetChain(xtc_handle* handle, const char* chain, const std::string& what);
// Leaves exactly one jump from `from` to `chain`, first in `from`.
void hookFirst(xtc_handle* handle, const char* from, const char* chain, const std::string& what);
// The one atomic write of the whole table (IPT_SO_SET_REPLACE).
void commit(xtc_handle* handle, const std::string& what);

std::string ipv4Text(in_addr address);
// An IPv4 "ADDRESS/LENGTH" (or a lone address: /32), the address masked. Throws
// std::system_error (EINVAL) quoting `cidr`.
struct Subnet {
    in_addr address{};
    in_addr mask{};
};
Subnet parseSubnet(const std::string& cidr);
int prefixLength(in_addr mask);

} // namespace vpnsteer::nat::iptc
