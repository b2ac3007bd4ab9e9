// DNS follows the VPN (service/resolved/dns_follows_vpn.hpp) against a fake resolved: which
// link takes every query while a VPN is system-wide, and that Down gives back exactly what
// was there, across a restart too.
#include "service/resolved/dns_follows_vpn.hpp"

#include <gtest/gtest.h>

namespace vpnsteer::resolved {
namespace {

class FakeLinks final : public LinkDnsApi {
public:
    std::vector<LinkDns> state;
    std::vector<std::string> calls; // "up0 DefaultRoute=no", in order
    bool running = true;

    std::vector<LinkDns> links() override {
        if (!running) {
            throw ResolvedUnavailable("systemd-resolved is not running (no owner)");
        }
        return state;
    }
    void setServers(const LinkDns& link, const std::vector<std::string>& servers) override {
        std::string text;
        for (const auto& server : servers) {
            text += " " + server;
        }
        calls.push_back(link.name + " DNS" + text);
        find(link).settings.servers = servers;
    }
    void setDomains(const LinkDns& link, const std::vector<LinkDomain>& domains) override {
        std::string text;
        for (const auto& domain : domains) {
            text += " " + std::string(domain.routeOnly ? "~" : "") + domain.name;
        }
        calls.push_back(link.name + " Domains" + text);
        find(link).settings.domains = domains;
    }
    void setDefaultRoute(const LinkDns& link, bool defaultRoute) override {
        calls.push_back(link.name + " DefaultRoute=" + (defaultRoute ? "yes" : "no"));
        find(link).settings.defaultRoute = defaultRoute;
    }

    LinkDnsSettings& settings(const std::string& name) {
        return find(LinkDns{0, name, {}}).settings;
    }

private:
    LinkDns& find(const LinkDns& link) {
        for (LinkDns& candidate : state) {
            if (candidate.name == link.name) {
                return candidate;
            }
        }
        throw std::runtime_error("no link " + link.name);
    }
};

class MemoryStore final : public SavedStateStore {
public:
    std::string text;
    std::string load() override { return text; }
    void save(const std::string& saved) override { text = saved; }
    void remove() override { text.clear(); }
};

Vpn makeVpn(const std::string& name, int id, std::vector<std::string> dns) {
    Vpn vpn;
    vpn.name = name;
    vpn.id = id;
    vpn.dns = std::move(dns);
    return vpn;
}

const Vpn us = makeVpn("us", 1, {"198.51.100.53"});
const Vpn de = makeVpn("de", 2, {"203.0.113.53", "2001:db8::53"});

class DnsFollowsVpnTest : public ::testing::Test {
protected:
    DnsFollowsVpnTest() {
        links.state = {
            LinkDns{2, "up0", {{"192.0.2.1"}, {{"isp.example", false}}, true}},
            LinkDns{3, "us", {{"198.51.100.53"}, {}, false}},
            LinkDns{4, "de", {{"203.0.113.53"}, {}, false}},
            LinkDns{5, "br-us", {{}, {}, true}},
        };
        before = links.state;
    }

    void expectAsBefore() {
        for (const LinkDns& link : before) {
            EXPECT_EQ(links.settings(link.name), link.settings) << link.name;
        }
    }

    FakeLinks links;
    MemoryStore store;
    DnsFollowsVpn dns{links, store};
    std::vector<LinkDns> before;
};

TEST_F(DnsFollowsVpnTest, TheSystemWideVpnsLinkTakesEveryQuery) {
    const rules::KernelReport report = dns.follow(&us);
    EXPECT_TRUE(report.failures.empty());
    EXPECT_EQ(links.settings("us"),
              (LinkDnsSettings{{"198.51.100.53"}, {LinkDomain{".", true}}, true}));
    EXPECT_FALSE(links.settings("up0").defaultRoute);
    EXPECT_FALSE(links.settings("de").defaultRoute);
    EXPECT_FALSE(links.settings("br-us").defaultRoute);
    // Only the default route of the others was touched; the VPN's link came first.
    EXPECT_EQ(links.calls,
              (std::vector<std::string>{"us Domains ~.", "us DefaultRoute=yes",
                                        "up0 DefaultRoute=no", "br-us DefaultRoute=no"}));
    EXPECT_EQ(links.settings("up0").servers, std::vector<std::string>{"192.0.2.1"});
}

TEST_F(DnsFollowsVpnTest, DownRestoresExactlyWhatWasThere) {
    dns.follow(&us);
    const rules::KernelReport report = dns.follow(nullptr);
    EXPECT_TRUE(report.failures.empty());
    expectAsBefore();
    EXPECT_TRUE(store.text.empty());
}

TEST_F(DnsFollowsVpnTest, FollowingTheSameVpnAgainChangesNothing) {
    dns.follow(&us);
    links.calls.clear();
    EXPECT_TRUE(dns.follow(&us).changes.empty());
    EXPECT_TRUE(links.calls.empty());
}

TEST_F(DnsFollowsVpnTest, ARestartedDaemonRestoresFromTheSavedStateNotFromWhatItSees) {
    dns.follow(&us);
    // A new vpnsteerd: only the store survives.
    DnsFollowsVpn restarted(links, store);
    EXPECT_TRUE(restarted.follow(&us).changes.empty());
    restarted.follow(nullptr);
    expectAsBefore();
}

TEST_F(DnsFollowsVpnTest, ASwitchGivesTheFormerVpnItsOwnSettingsBack) {
    dns.follow(&us);
    dns.follow(&de);
    EXPECT_EQ(links.settings("de"),
              (LinkDnsSettings{{"203.0.113.53", "2001:db8::53"}, {LinkDomain{".", true}}, true}));
    EXPECT_EQ(links.settings("us"), (LinkDnsSettings{{"198.51.100.53"}, {}, false}));
    EXPECT_FALSE(links.settings("up0").defaultRoute);
    dns.follow(nullptr);
    expectAsBefore();
}

TEST_F(DnsFollowsVpnTest, UplinkServersChangedMeanwhileAreKept) {
    dns.follow(&us);
    links.settings("up0").servers = {"192.0.2.99"}; // DHCP renewed with another resolver
    dns.follow(nullptr);
    EXPECT_EQ(links.settings("up0"),
              (LinkDnsSettings{{"192.0.2.99"}, {{"isp.example", false}}, true}));
}

TEST_F(DnsFollowsVpnTest, ALinkThatAppearsLaterLosesItsDefaultRouteAndGetsItBack) {
    dns.follow(&us);
    links.state.push_back(LinkDns{9, "wlan0", {{"192.0.2.7"}, {}, true}});
    dns.follow(&us);
    EXPECT_FALSE(links.settings("wlan0").defaultRoute);
    dns.follow(nullptr);
    EXPECT_TRUE(links.settings("wlan0").defaultRoute);
}

TEST_F(DnsFollowsVpnTest, ResolvedNotRunningIsAReportedFailure) {
    links.running = false;
    rules::KernelReport report;
    EXPECT_NO_THROW(report = dns.follow(&us));
    ASSERT_EQ(report.failures.size(), 1u);
    EXPECT_NE(report.failures[0].find("systemd-resolved is not running"), std::string::npos);
    EXPECT_NE(report.failures[0].find("the rules are in force"), std::string::npos);
    // Nothing system-wide and nothing saved: resolved is not even asked.
    EXPECT_TRUE(dns.follow(nullptr).failures.empty());
}

TEST_F(DnsFollowsVpnTest, AVpnWhoseLinkResolvedDoesNotKnowIsAFailureAndTouchesNothing) {
    const Vpn gone = makeVpn("gone", 7, {"198.51.100.53"});
    const rules::KernelReport report = dns.follow(&gone);
    ASSERT_EQ(report.failures.size(), 1u);
    EXPECT_NE(report.failures[0].find("does not know gone's link"), std::string::npos);
    EXPECT_TRUE(links.calls.empty());
}

TEST(SavedDnsTest, RoundTripsThroughJson) {
    SavedDns saved{"us",
                   {{"up0", {{"192.0.2.1", "2001:db8::1"}, {{"isp.example", false}}, true}},
                    {"us", {{}, {{".", true}}, false}}}};
    EXPECT_EQ(savedDnsFromJson(toJson(saved)), saved);
    EXPECT_THROW(savedDnsFromJson("{\"vpn\": 1}"), std::runtime_error);
}

} // namespace
} // namespace vpnsteer::resolved
