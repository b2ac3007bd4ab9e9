// The WAN DNS forwarder as vpnsteerd hosts it (service/wandns/wan_dns_service.hpp), with a
// fake systemd-resolved: where its upstreams come from, how it follows them and the spec, and
// that nothing it meets throws. The forwarder is the real one, on 127.0.0.1 with a free port
// and no mark (unprivileged).
#include "service/wandns/handles.hpp"
#include "service/wandns/uplink_servers.hpp"
#include "service/wandns/wan_dns_service.hpp"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

namespace vpnsteer::wandns {
namespace {

using resolved::LinkDns;

class FakeResolved final : public resolved::LinkDnsApi {
public:
    std::vector<LinkDns> state;
    bool running = true;
    bool broken = false;

    std::vector<LinkDns> links() override {
        if (!running) {
            throw resolved::ResolvedUnavailable("systemd-resolved is not running (no owner)");
        }
        if (broken) {
            throw std::runtime_error("reading link up0 from systemd-resolved: timed out");
        }
        return state;
    }
    void setServers(const LinkDns&, const std::vector<std::string>&) override {}
    void setDomains(const LinkDns&, const std::vector<resolved::LinkDomain>&) override {}
    void setDefaultRoute(const LinkDns&, bool) override {}
};

LinkDns link(int ifindex, const std::string& name, std::vector<std::string> servers) {
    return LinkDns{ifindex, name, {std::move(servers), {}, false}};
}

Vpn vpn(const std::string& name, int id) {
    Vpn v;
    v.name = name;
    v.id = id;
    v.bridge = "br-" + name;
    return v;
}

// Listens on 127.0.0.1 with a port the kernel picks, unmarked.
Spec makeSpec(std::vector<Endpoint> servers = {}) {
    Spec spec;
    spec.wan.mark = 0;
    spec.wan.dnsListen = {{"127.0.0.1", 0, false}};
    spec.wan.dnsServers = std::move(servers);
    spec.vpns.emplace("us", vpn("us", 1));
    return spec;
}

std::vector<std::string> texts(const std::vector<SocketAddress>& addresses) {
    std::vector<std::string> result;
    for (const auto& address : addresses) {
        result.push_back(address.toString());
    }
    return result;
}

EventPtr newEvent() {
    sd_event* raw = nullptr;
    EXPECT_GE(sd_event_new(&raw), 0);
    return EventPtr(raw);
}

class WanDnsServiceTest : public ::testing::Test {
protected:
    WanDnsServiceTest() {
        resolved.state = {link(2, "up0", {"192.0.2.1", "fe80::1"}), link(3, "us", {"203.0.113.53"}),
                          link(4, "br-us", {"10.20.1.1"}), link(5, "wlan0", {"192.0.2.1"})};
        service.onChanged([this] { ++announced; });
    }

    EventPtr event = newEvent();
    FakeResolved resolved;
    std::vector<std::pair<int, std::string>> journal;
    WanDnsService service{event.get(), resolved, [this](int priority, std::string_view text) {
                              journal.emplace_back(priority, std::string(text));
                          }};
    int announced = 0;
};

TEST(UplinkServers, EveryLinkButTheVpnsTunnelsAndBridgesWithoutDuplicates) {
    Spec spec;
    spec.vpns.emplace("us", vpn("us", 1));
    const auto servers = uplinkServersOf(
        {link(2, "up0", {"192.0.2.1", "2001:db8:2::1", "fe80::1"}), link(3, "us", {"203.0.113.53"}),
         link(4, "br-us", {"10.20.1.1"}), link(5, "wlan0", {"192.0.2.1", "not an address"})},
        spec);
    EXPECT_EQ(texts(servers),
              (std::vector<std::string>{"192.0.2.1:53", "[2001:db8:2::1]:53", "[fe80::1%2]:53"}));
}

TEST_F(WanDnsServiceTest, WithoutStaticServersItAsksTheUplinksResolvers) {
    const rules::KernelReport report = service.specApplied(makeSpec());
    EXPECT_TRUE(report.failures.empty()) << report.failures.front();
    EXPECT_EQ(service.upstreamSource(), UpstreamSource::resolved);
    EXPECT_EQ(texts(service.upstreams()),
              (std::vector<std::string>{"192.0.2.1:53", "[fe80::1%2]:53"}));
    ASSERT_EQ(service.listening().size(), 1u);
    EXPECT_NE(service.listening()[0].port(), 0);
    ASSERT_FALSE(report.changes.empty());
    EXPECT_NE(report.changes.back().find("WAN DNS forwarder: serving 127.0.0.1:"),
              std::string::npos);
}

TEST_F(WanDnsServiceTest, StaticServersOfTheSpecWinAndResolvedIsNotAsked) {
    resolved.running = false;
    const rules::KernelReport report =
        service.specApplied(makeSpec({{"198.51.100.53", 5353, false}}));
    EXPECT_TRUE(report.failures.empty());
    EXPECT_EQ(service.upstreamSource(), UpstreamSource::spec);
    EXPECT_EQ(texts(service.upstreams()), (std::vector<std::string>{"198.51.100.53:5353"}));
}

TEST_F(WanDnsServiceTest, ItFollowsTheUplinksServersAsTheyChange) {
    service.specApplied(makeSpec());
    const int before = announced;
    resolved.state[0].settings.servers = {"192.0.2.99"};
    service.refreshUplink();
    EXPECT_EQ(texts(service.upstreams()),
              (std::vector<std::string>{"192.0.2.99:53", "192.0.2.1:53"}));
    EXPECT_EQ(announced, before + 1);
    ASSERT_FALSE(journal.empty());
    EXPECT_NE(journal.back().second.find("upstreams 192.0.2.99:53 192.0.2.1:53 (systemd-resolved)"),
              std::string::npos);
    // Nothing changed: nothing announced, nothing journalled.
    const auto lines = journal.size();
    service.refreshUplink();
    EXPECT_EQ(announced, before + 1);
    EXPECT_EQ(journal.size(), lines);
}

TEST_F(WanDnsServiceTest, WithoutResolvedOrStaticServersItSaysSoOnceAndKeepsServing) {
    resolved.running = false;
    const rules::KernelReport report = service.specApplied(makeSpec());
    EXPECT_EQ(service.upstreamSource(), UpstreamSource::none);
    EXPECT_TRUE(service.upstreams().empty());
    EXPECT_EQ(service.listening().size(), 1u);
    ASSERT_EQ(report.failures.size(), 1u);
    EXPECT_EQ(
        report.failures[0],
        "WAN DNS forwarder: systemd-resolved is not running (no owner) and the spec names no "
        "wan.dns.servers; its queries get SERVFAIL until there is one, everything else works");
    service.refreshUplink();
    EXPECT_TRUE(journal.empty()); // not repeated at every poll
    resolved.running = true;
    service.refreshUplink();
    EXPECT_EQ(service.upstreamSource(), UpstreamSource::resolved);
    EXPECT_EQ(service.upstreams().size(), 2u);
}

TEST_F(WanDnsServiceTest, AFailedReadKeepsTheServersKnown) {
    service.specApplied(makeSpec());
    resolved.broken = true;
    service.refreshUplink();
    EXPECT_EQ(service.upstreams().size(), 2u);
    ASSERT_FALSE(journal.empty());
    EXPECT_NE(journal.back().second.find("timed out, keeping upstreams 192.0.2.1:53"),
              std::string::npos);
}

TEST_F(WanDnsServiceTest, AReloadWithTheSameListenKeepsTheForwarderAndItsCounters) {
    service.specApplied(makeSpec());
    const SocketAddress bound = service.listening().at(0);
    const int before = announced;
    const rules::KernelReport report = service.specApplied(makeSpec());
    EXPECT_TRUE(report.changes.empty());
    EXPECT_EQ(service.listening().at(0), bound);
    EXPECT_EQ(announced, before); // nothing to announce on D-Bus either
}

TEST_F(WanDnsServiceTest, AnAddressThatCannotBeBoundIsReportedAndNothingThrows) {
    // Somebody else holds a port on 127.0.0.1 (UDP and TCP are bound; TCP suffices to clash).
    UniqueFd taken(::socket(AF_INET, SOCK_STREAM, 0));
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::bind(taken.get(), reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    ASSERT_EQ(::listen(taken.get(), 1), 0);
    socklen_t length = sizeof address;
    ::getsockname(taken.get(), reinterpret_cast<sockaddr*>(&address), &length);
    Spec spec = makeSpec();
    spec.wan.dnsListen = {{"127.0.0.1", ntohs(address.sin_port), false}};
    rules::KernelReport report;
    EXPECT_NO_THROW(report = service.specApplied(spec));
    EXPECT_TRUE(service.listening().empty());
    ASSERT_EQ(report.failures.size(), 1u);
    EXPECT_NE(report.failures[0].find("uplink-only programs cannot resolve through it, everything "
                                      "else works"),
              std::string::npos);
    // A Reload with a free address serves again.
    service.specApplied(makeSpec());
    EXPECT_EQ(service.listening().size(), 1u);
}

} // namespace
} // namespace vpnsteer::wandns
