// The rp_filter check of `vpnsteer status`, over a fake /proc: the kernel takes
// max(conf/all, conf/UPLINK), and only 1 (strict) drops a system-wide VPN's replies.
#include "cli/reverse_path_filter.hpp"

#include <gtest/gtest.h>
#include <map>
#include <string>
#include <vector>

namespace vpnsteer::cli {
namespace {

constexpr const char* routeHeader = "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\t"
                                    "Mask\t\tMTU\tWindow\tIRTT\n";

// /proc/net/route with a default route through eth0 and a subnet route.
const std::string eth0Uplink = std::string(routeHeader) +
                               "eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n"
                               "eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n";

struct FakeProc {
    std::map<std::string, std::string> files;

    FakeProc& rpFilter(const std::string& interface, const std::string& value) {
        files["/proc/sys/net/ipv4/conf/" + interface + "/rp_filter"] = value + "\n";
        return *this;
    }
    FakeProc& routes(const std::string& table) {
        files["/proc/net/route"] = table;
        return *this;
    }
    std::vector<std::string> strict() const {
        return strictReversePathFilters([this](const std::string& path) {
            auto found = files.find(path);
            return found == files.end() ? std::nullopt : std::optional(found->second);
        });
    }
};

using Names = std::vector<std::string>;

TEST(ReversePathFilter, LooseOrOffIsFine) {
    for (const char* all : {"0", "2"}) {
        for (const char* uplink : {"0", "2"}) {
            FakeProc proc;
            proc.routes(eth0Uplink).rpFilter("all", all).rpFilter("eth0", uplink);
            proc.rpFilter("default", "1"); // the uplink is known, so default does not matter
            EXPECT_EQ(proc.strict(), Names{}) << "all=" << all << " eth0=" << uplink;
        }
    }
}

TEST(ReversePathFilter, NamesAllWhenAllIsStrict) {
    FakeProc proc;
    proc.routes(eth0Uplink).rpFilter("all", "1").rpFilter("eth0", "0");
    EXPECT_EQ(proc.strict(), Names{"net.ipv4.conf.all.rp_filter"});
    proc.rpFilter("eth0", "1");
    EXPECT_EQ(proc.strict(), Names{"net.ipv4.conf.all.rp_filter"});
}

TEST(ReversePathFilter, LooseUplinkOverridesStrictAll) {
    FakeProc proc;
    proc.routes(eth0Uplink).rpFilter("all", "1").rpFilter("eth0", "2");
    EXPECT_EQ(proc.strict(), Names{});
}

TEST(ReversePathFilter, NamesTheUplinkWhenOnlyItIsStrict) {
    FakeProc proc;
    proc.routes(eth0Uplink).rpFilter("all", "0").rpFilter("eth0", "1").rpFilter("default", "2");
    EXPECT_EQ(proc.strict(), Names{"net.ipv4.conf.eth0.rp_filter"});
}

TEST(ReversePathFilter, ChecksEveryDefaultRouteOnceAndWritesVlanDotsAsSlashes) {
    FakeProc proc;
    proc.routes(std::string(routeHeader) +
                "eth0.100\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n"
                "wlan0\t00000000\t010200C0\t0003\t0\t0\t600\t00000000\t0\t0\t0\n"
                "eth0.100\t00000000\t020200C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n"
                "*\t00000000\t00000000\t0201\t0\t0\t0\t00000000\t0\t0\t0\n")
        .rpFilter("all", "0")
        .rpFilter("eth0.100", "1")
        .rpFilter("wlan0", "1");
    EXPECT_EQ(proc.strict(),
              (Names{"net.ipv4.conf.eth0/100.rp_filter", "net.ipv4.conf.wlan0.rp_filter"}));
}

TEST(ReversePathFilter, FallsBackToDefaultWithoutADefaultRoute) {
    FakeProc proc;
    proc.routes(routeHeader).rpFilter("all", "0").rpFilter("default", "1");
    EXPECT_EQ(proc.strict(), Names{"net.ipv4.conf.default.rp_filter"});
    proc.files.erase("/proc/net/route");
    EXPECT_EQ(proc.strict(), Names{"net.ipv4.conf.default.rp_filter"});
    proc.rpFilter("default", "2");
    EXPECT_EQ(proc.strict(), Names{});
}

TEST(ReversePathFilter, UnreadableOrGarbledFilesCountAsOff) {
    EXPECT_EQ(FakeProc{}.strict(), Names{});
    FakeProc proc;
    proc.routes(eth0Uplink).rpFilter("all", "x").rpFilter("eth0", "");
    EXPECT_EQ(proc.strict(), Names{});
}

TEST(ReversePathFilter, TheWarningSaysWhatBreaksAndHowToFixIt) {
    EXPECT_EQ(reversePathFilterWarning("net.ipv4.conf.all.rp_filter"),
              "vpnsteer: warning: net.ipv4.conf.all.rp_filter is 1 (strict), so the kernel drops "
              "a system-wide VPN's replies on the uplink; make it loose with: sysctl -w "
              "net.ipv4.conf.all.rp_filter=2");
}

TEST(ReadSmallFile, ReadsAFileAndSaysWhenItCannot) {
    const std::optional<std::string> text = readSmallFile("/proc/sys/net/ipv4/conf/all/rp_filter");
    ASSERT_TRUE(text.has_value());
    EXPECT_TRUE(text->starts_with("0") || text->starts_with("1") || text->starts_with("2"))
        << *text;
    EXPECT_EQ(readSmallFile("/nonexistent/vpnsteer"), std::nullopt);
}

} // namespace
} // namespace vpnsteer::cli
