#include "service/nat/iptc_dns_redirect_table.hpp"

#include "service/nat/iptc.hpp"

#include <arpa/inet.h>
#include <linux/netfilter/nf_nat.h>
#include <linux/netfilter/xt_owner.h>
#include <linux/netfilter/xt_tcpudp.h>
#include <optional>
#include <string_view>

namespace vpnsteer::nat {

namespace {

using iptc::Ipv4;
using iptc::Ipv6;

constexpr const char* output = "OUTPUT";
constexpr std::uint16_t dnsPort = 53;
// xt_owner's match revision 1 (struct xt_owner_match_info), what iptables 1.8 writes.
constexpr std::uint8_t ownerRevision = 1;
// DNAT revision 2 (struct nf_nat_range2), what iptables 1.8 writes and shows; it shows
// revision 0 as "[unsupported revision]".
constexpr std::uint8_t dnatRevision = 2;
constexpr std::uint32_t ownerFlags = XT_OWNER_GID | XT_OWNER_SUPPL_GROUPS;
constexpr std::uint32_t dnatFlags = NF_NAT_RANGE_MAP_IPS | NF_NAT_RANGE_PROTO_SPECIFIED;

std::uint8_t protocolOf(Transport transport) {
    return transport == Transport::udp ? IPPROTO_UDP : IPPROTO_TCP;
}

// The address parts, which differ between ipt_entry and ip6t_entry and in nf_inet_addr.
void setAddresses(ipt_entry* e, const RedirectRule& rule, nf_inet_addr& to) {
    e->ip.dst = iptc::parseSubnet(rule.destination).address;
    e->ip.dmsk.s_addr = 0xffffffff;
    e->ip.proto = protocolOf(rule.transport);
    to.ip = iptc::parseSubnet(rule.toAddress).address.s_addr;
}

void setAddresses(ip6t_entry* e, const RedirectRule& rule, nf_inet_addr& to) {
    e->ipv6.dst = iptc::parseIpv6(rule.destination);
    std::memset(&e->ipv6.dmsk, 0xff, sizeof e->ipv6.dmsk);
    e->ipv6.proto = protocolOf(rule.transport);
    e->ipv6.flags = IP6T_F_PROTO; // IPv6 matches the protocol only when told to
    const in6_addr address = iptc::parseIpv6(rule.toAddress);
    std::memcpy(to.ip6, &address, sizeof to.ip6);
}

// The destination and protocol of an entry that has the shape setAddresses() gives, or nothing.
std::optional<RedirectRule> readAddresses(const ipt_entry* e) {
    if (e->ip.invflags != 0 || e->ip.iniface[0] != '\0' || e->ip.outiface[0] != '\0' ||
        e->ip.smsk.s_addr != 0 || e->ip.dmsk.s_addr != 0xffffffff ||
        (e->ip.proto != IPPROTO_UDP && e->ip.proto != IPPROTO_TCP)) {
        return std::nullopt;
    }
    RedirectRule rule;
    rule.destination = iptc::ipv4Text(e->ip.dst);
    rule.transport = e->ip.proto == IPPROTO_UDP ? Transport::udp : Transport::tcp;
    return rule;
}

std::optional<RedirectRule> readAddresses(const ip6t_entry* e) {
    in6_addr all;
    std::memset(&all, 0xff, sizeof all);
    if (e->ipv6.invflags != 0 || e->ipv6.iniface[0] != '\0' || e->ipv6.outiface[0] != '\0' ||
        !IN6_IS_ADDR_UNSPECIFIED(&e->ipv6.smsk) ||
        std::memcmp(&e->ipv6.dmsk, &all, sizeof all) != 0 || e->ipv6.flags != IP6T_F_PROTO ||
        (e->ipv6.proto != IPPROTO_UDP && e->ipv6.proto != IPPROTO_TCP)) {
        return std::nullopt;
    }
    RedirectRule rule;
    rule.destination = iptc::ipv6Text(e->ipv6.dst);
    rule.transport = e->ipv6.proto == IPPROTO_UDP ? Transport::udp : Transport::tcp;
    return rule;
}

std::string addressText(const nf_inet_addr& address, AddressFamily family) {
    if (family == AddressFamily::ipv4) {
        return iptc::ipv4Text(in_addr{address.ip});
    }
    in6_addr v6;
    std::memcpy(&v6, address.ip6, sizeof v6);
    return iptc::ipv6Text(v6);
}

// The matches in the order the entry holds them: owner, then udp or tcp.
template <typename Family>
iptc::Entry<Family> redirectEntry(const RedirectRule& rule) {
    iptc::Entry<Family> entry;
    auto* owner = static_cast<xt_owner_match_info*>(
        entry.addMatch("owner", sizeof(xt_owner_match_info), ownerRevision));
    owner->gid_min = owner->gid_max = rule.group;
    // The group may be a supplementary one (SupplementaryGroups= of the daemon's unit).
    owner->match = ownerFlags;
    // Ports in host order, as libxt_tcp and libxt_udp store them. xt_udp and xt_tcp begin
    // alike: source and destination port ranges.
    const bool udp = rule.transport == Transport::udp;
    auto* ports = static_cast<xt_udp*>(udp ? entry.addMatch("udp", sizeof(xt_udp))
                                           : entry.addMatch("tcp", sizeof(xt_tcp)));
    ports->spts[1] = 0xffff;
    ports->dpts[0] = ports->dpts[1] = dnsPort;

    auto* range =
        static_cast<nf_nat_range2*>(entry.setTarget("DNAT", sizeof(nf_nat_range2), dnatRevision));
    range->flags = dnatFlags;
    setAddresses(entry.entry(), rule, range->min_addr);
    range->max_addr = range->min_addr;
    range->min_proto.udp.port = range->max_proto.udp.port = htons(rule.toPort);
    return entry;
}

// The rule an entry of the chain holds, if it has exactly the shape redirectEntry() makes.
template <typename Raw>
std::optional<RedirectRule> parseEntry(const Raw* entry, const char* target, AddressFamily family) {
    std::optional<RedirectRule> rule = readAddresses(entry);
    if (!rule || target == nullptr || std::strcmp(target, "DNAT") != 0) {
        return std::nullopt;
    }
    const std::string_view portMatch = rule->transport == Transport::udp ? "udp" : "tcp";
    bool owner = false;
    bool port = false;
    const auto* bytes = reinterpret_cast<const unsigned char*>(entry);
    for (std::size_t offset = XT_ALIGN(sizeof(Raw)); offset < entry->target_offset;) {
        const auto* match = reinterpret_cast<const xt_entry_match*>(bytes + offset);
        if (match->u.match_size == 0) {
            return std::nullopt;
        }
        const std::string_view name = match->u.user.name;
        if (name == "owner" && !owner) {
            const auto* info = reinterpret_cast<const xt_owner_match_info*>(match->data);
            if (info->match != ownerFlags || info->invert != 0 || info->gid_min != info->gid_max) {
                return std::nullopt;
            }
            rule->group = info->gid_min;
            owner = true;
        } else if (name == portMatch && !port) {
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
    const auto* data = reinterpret_cast<const xt_entry_target*>(bytes + entry->target_offset);
    const auto* range = reinterpret_cast<const nf_nat_range2*>(data->data);
    if (!owner || !port || data->u.user.revision != dnatRevision ||
        data->u.target_size !=
            XT_ALIGN(sizeof(xt_entry_target)) + XT_ALIGN(sizeof(nf_nat_range2)) ||
        range->flags != dnatFlags ||
        std::memcmp(&range->min_addr, &range->max_addr, sizeof range->min_addr) != 0 ||
        range->min_proto.udp.port != range->max_proto.udp.port) {
        return std::nullopt;
    }
    rule->toAddress = addressText(range->min_addr, family);
    rule->toPort = ntohs(range->min_proto.udp.port);
    return rule;
}

template <typename Family>
RedirectChainState readChain(AddressFamily family) {
    iptc::NatTable<Family> table("reading the nat table");
    RedirectChainState state;
    if (!table.hasChain(dnsRedirectChain)) {
        return state;
    }
    table.forEachRule(
        dnsRedirectChain, [&](const typename Family::Entry* entry, const char* target) {
            std::optional<RedirectRule> rule = parseEntry(entry, target, family);
            if (!rule) {
                rule = RedirectRule{};
                rule->foreign = std::string("a rule with target ") + (target ? target : "?");
            }
            state.rules.push_back(*rule);
        });
    state.hooks = table.countJumps(output, dnsRedirectChain);
    return state;
}

template <typename Family>
void writeChain(const std::vector<RedirectRule>& rules) {
    iptc::NatTable<Family> table(std::string("writing the nat chain ") + dnsRedirectChain);
    table.resetChain(dnsRedirectChain);
    for (const RedirectRule& rule : rules) {
        iptc::Entry<Family> entry = redirectEntry<Family>(rule);
        table.append(dnsRedirectChain, entry, rule.describe());
    }
    table.hookFirst(output, dnsRedirectChain);
    table.commit();
}

} // namespace

RedirectChainState IptcDnsRedirectTable::read() {
    return family_ == AddressFamily::ipv4 ? readChain<Ipv4>(family_) : readChain<Ipv6>(family_);
}

void IptcDnsRedirectTable::write(const std::vector<RedirectRule>& rules) {
    if (family_ == AddressFamily::ipv4) {
        writeChain<Ipv4>(rules);
    } else {
        writeChain<Ipv6>(rules);
    }
}

} // namespace vpnsteer::nat
