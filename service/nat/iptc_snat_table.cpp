#include "service/nat/iptc_snat_table.hpp"

#include "service/nat/iptc.hpp"

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <linux/netfilter/nf_nat.h>
#include <netinet/in.h>
#include <system_error>
#include <vector>

namespace vpnsteer::nat {

namespace {

using Entry = iptc::Entry<iptc::Ipv4>;
using iptc::ipv4Text;
using iptc::parseSubnet;
using iptc::prefixLength;
using iptc::Subnet;

constexpr const char* postrouting = "POSTROUTING";

Entry snatEntry(const SnatRule& rule) {
    Entry entry;
    auto* range = static_cast<nf_nat_ipv4_multi_range_compat*>(
        entry.setTarget("SNAT", sizeof(nf_nat_ipv4_multi_range_compat)));
    const Subnet source = parseSubnet(rule.source);
    entry.entry()->ip.src = source.address;
    entry.entry()->ip.smsk = source.mask;
    in_addr to{};
    if (inet_pton(AF_INET, rule.toSource.c_str(), &to) != 1) {
        throw std::system_error(EINVAL, std::generic_category(),
                                "'" + rule.toSource + "' is not an IPv4 address");
    }
    // SNAT revision 0, the IPv4 one: a "multi range" of exactly one range.
    range->rangesize = 1;
    range->range[0].flags = NF_NAT_RANGE_MAP_IPS;
    range->range[0].min_ip = to.s_addr;
    range->range[0].max_ip = to.s_addr;
    return entry;
}

SnatRule ruleOf(const ipt_entry* entry, const char* target) {
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

} // namespace

SnatChainState IptcSnatTable::read() {
    iptc::NatTable<iptc::Ipv4> table("reading the nat table");
    SnatChainState state;
    if (!table.hasChain(snatChain)) {
        return state;
    }
    table.forEachRule(snatChain, [&](const ipt_entry* entry, const char* target) {
        state.rules.push_back(ruleOf(entry, target));
    });
    state.hooks = table.countJumps(postrouting, snatChain);
    return state;
}

void IptcSnatTable::write(const std::vector<SnatRule>& rules) {
    iptc::NatTable<iptc::Ipv4> table(std::string("writing the nat chain ") + snatChain);
    table.resetChain(snatChain);
    for (const SnatRule& rule : rules) {
        Entry entry = snatEntry(rule);
        table.append(snatChain, entry, rule.describe());
    }
    // First in POSTROUTING, ahead of a host's catch-all MASQUERADE.
    table.hookFirst(postrouting, snatChain);
    table.commit();
}

} // namespace vpnsteer::nat
