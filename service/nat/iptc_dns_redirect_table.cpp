#include "service/nat/iptc_dns_redirect_table.hpp"

#include "service/nat/iptc.hpp"

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <linux/netfilter/nf_nat.h>
#include <linux/netfilter/xt_owner.h>
#include <linux/netfilter/xt_tcpudp.h>
#include <netinet/in.h>
#include <string_view>
#include <system_error>

namespace vpnsteer::nat {

namespace {

constexpr const char* output = "OUTPUT";
constexpr std::uint16_t dnsPort = 53;
// xt_owner's match revision 1 (struct xt_owner_match_info), what iptables 1.8 writes.
constexpr std::uint8_t ownerRevision = 1;
constexpr std::uint8_t dnatRevision = 2;

// The matches in the order the entry holds them: owner, then udp or tcp.
iptc::Entry redirectEntry(const RedirectRule& rule) {
    iptc::Entry entry;
    ipt_entry* e = entry.entry();
    const iptc::Subnet destination = iptc::parseSubnet(rule.destination);
    e->ip.dst = destination.address;
    e->ip.dmsk.s_addr = 0xffffffff;
    e->ip.proto = rule.transport == Transport::udp ? IPPROTO_UDP : IPPROTO_TCP;

    auto* owner = static_cast<xt_owner_match_info*>(
        entry.addMatch("owner", sizeof(xt_owner_match_info), ownerRevision));
    owner->gid_min = rule.group;
    owner->gid_max = rule.group;
    // The group may be a supplementary one (SupplementaryGroups= of the tunnel daemon's unit).
    owner->match = XT_OWNER_GID | XT_OWNER_SUPPL_GROUPS;
    // Ports in host order, as libxt_tcp and libxt_udp store them.
    if (rule.transport == Transport::udp) {
        auto* udp = static_cast<xt_udp*>(entry.addMatch("udp", sizeof(xt_udp)));
        udp->spts[1] = 0xffff;
        udp->dpts[0] = udp->dpts[1] = dnsPort;
    } else {
        auto* tcp = static_cast<xt_tcp*>(entry.addMatch("tcp", sizeof(xt_tcp)));
        tcp->spts[1] = 0xffff;
        tcp->dpts[0] = tcp->dpts[1] = dnsPort;
    }

    // DNAT revision 2 (struct nf_nat_range2), what iptables 1.8 writes and shows; it shows
    // revision 0 as "[unsupported revision]".
    auto* range =
        static_cast<nf_nat_range2*>(entry.setTarget("DNAT", sizeof(nf_nat_range2), dnatRevision));
    const iptc::Subnet to = iptc::parseSubnet(rule.toAddress);
    range->flags = NF_NAT_RANGE_MAP_IPS | NF_NAT_RANGE_PROTO_SPECIFIED;
    range->min_addr.ip = range->max_addr.ip = to.address.s_addr;
    range->min_proto.udp.port = range->max_proto.udp.port = htons(rule.toPort);
    return entry;
}

const xt_entry_match* matchAt(const ipt_entry* entry, std::size_t offset) {
    return reinterpret_cast<const xt_entry_match*>(reinterpret_cast<const unsigned char*>(entry) +
                                                   offset);
}

// The rule an entry of the chain holds, if it has exactly the shape redirectEntry() makes.
std::optional<RedirectRule> parseEntry(const ipt_entry* entry, xtc_handle* handle) {
    const char* target = iptc_get_target(entry, handle);
    if (target == nullptr || std::strcmp(target, "DNAT") != 0 || entry->ip.invflags != 0 ||
        entry->ip.iniface[0] != '\0' || entry->ip.outiface[0] != '\0' ||
        entry->ip.smsk.s_addr != 0 || entry->ip.dmsk.s_addr != 0xffffffff ||
        (entry->ip.proto != IPPROTO_UDP && entry->ip.proto != IPPROTO_TCP)) {
        return std::nullopt;
    }
    RedirectRule rule;
    rule.destination = iptc::ipv4Text(entry->ip.dst);
    rule.transport = entry->ip.proto == IPPROTO_UDP ? Transport::udp : Transport::tcp;
    const std::string_view portMatch = rule.transport == Transport::udp ? "udp" : "tcp";
    bool owner = false;
    bool port = false;
    for (std::size_t offset = XT_ALIGN(sizeof(ipt_entry)); offset < entry->target_offset;) {
        const xt_entry_match* match = matchAt(entry, offset);
        if (match->u.match_size == 0) {
            return std::nullopt;
        }
        const std::string_view name = match->u.user.name;
        if (name == "owner" && !owner) {
            const auto* info = reinterpret_cast<const xt_owner_match_info*>(match->data);
            if (info->match != (XT_OWNER_GID | XT_OWNER_SUPPL_GROUPS) || info->invert != 0 ||
                info->gid_min != info->gid_max) {
                return std::nullopt;
            }
            rule.group = info->gid_min;
            owner = true;
        } else if (name == portMatch && !port) {
            // xt_udp and xt_tcp begin alike: source and destination port ranges.
            const auto* ports = reinterpret_cast<const xt_udp*>(match->data);
            if (ports->spts[0] != 0 || ports->spts[1] != 0xffff || ports->dpts[0] != dnsPort ||
                ports->dpts[1] != dnsPort || ports->invflags != 0) {
                return std::nullopt;
            }
            port = true;
        } else {
            return std::nullopt;
        }
        offset += match->u.match_size;
    }
    const auto* data = ipt_get_target(const_cast<ipt_entry*>(entry));
    const auto* range = reinterpret_cast<const nf_nat_range2*>(data->data);
    if (!owner || !port || data->u.user.revision != dnatRevision ||
        data->u.target_size !=
            XT_ALIGN(sizeof(xt_entry_target)) + XT_ALIGN(sizeof(nf_nat_range2)) ||
        range->flags != (NF_NAT_RANGE_MAP_IPS | NF_NAT_RANGE_PROTO_SPECIFIED) ||
        range->min_addr.ip != range->max_addr.ip ||
        range->min_proto.udp.port != range->max_proto.udp.port) {
        return std::nullopt;
    }
    rule.toAddress = iptc::ipv4Text(in_addr{range->min_addr.ip});
    rule.toPort = ntohs(range->min_proto.udp.port);
    return rule;
}

RedirectRule ruleOf(const ipt_entry* entry, xtc_handle* handle) {
    if (std::optional<RedirectRule> rule = parseEntry(entry, handle)) {
        return *rule;
    }
    const char* target = iptc_get_target(entry, handle);
    RedirectRule foreign;
    foreign.foreign = std::string("a rule with target ") + (target ? target : "?") + " to " +
                      iptc::ipv4Text(entry->ip.dst) + "/" +
                      std::to_string(iptc::prefixLength(entry->ip.dmsk));
    return foreign;
}

} // namespace

RedirectChainState IptcDnsRedirectTable::read() {
    iptc::Handle handle = iptc::openNat("reading the nat table");
    RedirectChainState state;
    if (!iptc_is_chain(dnsRedirectChain, handle.get())) {
        return state;
    }
    for (const ipt_entry* entry = iptc_first_rule(dnsRedirectChain, handle.get()); entry != nullptr;
         entry = iptc_next_rule(entry, handle.get())) {
        state.rules.push_back(ruleOf(entry, handle.get()));
    }
    state.hooks = iptc::countJumps(handle.get(), output, dnsRedirectChain);
    return state;
}

void IptcDnsRedirectTable::write(const std::vector<RedirectRule>& rules) {
    const std::string what = std::string("writing the nat chain ") + dnsRedirectChain;
    iptc::Handle handle = iptc::openNat(what);
    xtc_handle* h = handle.get();
    iptc::resetChain(h, dnsRedirectChain, what);
    for (const RedirectRule& rule : rules) {
        iptc::Entry entry = redirectEntry(rule);
        if (!iptc_append_entry(dnsRedirectChain, entry.entry(), h)) {
            iptc::fail(errno, what + " (appending " + rule.describe() + ")");
        }
    }
    iptc::hookFirst(h, output, dnsRedirectChain, what);
    iptc::commit(h, what);
}

} // namespace vpnsteer::nat
