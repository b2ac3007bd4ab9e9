// vpnsteer wan: the environment it gives the command, the mark it takes from the spec, and the
// errors it stops at before running anything. That the command then really leaves through the
// uplink is the lab's to prove (tests/integration/wan-uplink.sh).
#include "cli/packetmark_preload.hpp"
#include "cli/subcommand.hpp"
#include "test_cli_fakes.hpp"

#include <gtest/gtest.h>

namespace vpnsteer::cli {
namespace {

using testing::Outcome;

Outcome wan(std::vector<std::string_view> args, std::optional<std::string> spec = std::nullopt) {
    Host host = testing::offlineHost();
    host.readFile = [spec](const std::string&) { return spec; };
    return testing::runSubcommand(wanMain, "wan [--spec FILE | --mark N] -- CMD [ARG]...", host,
                                  std::move(args));
}

TEST(CliWan, TheLibraryComesFirstInLdPreloadAndTheMarkIsDecimal) {
    EXPECT_EQ(
        packetmarkEnvironment("/usr/lib/vpnsteer/libpacketmark.so", 0x2710, std::nullopt),
        (std::map<std::string, std::string>{{"LD_PRELOAD", "/usr/lib/vpnsteer/libpacketmark.so"},
                                            {"LIBPACKETMARK_MARK", "10000"}}));
    EXPECT_EQ(packetmarkEnvironment("/l/libpacketmark.so", 7, "libother.so").at("LD_PRELOAD"),
              "/l/libpacketmark.so libother.so");
}

TEST(CliWan, TheMarkIsTheSpecsWanMarkOrTheDefault) {
    EXPECT_EQ(wanMarkOf(R"({"version": 1, "wan": {"mark": 4242}, "vpns": {}})").mark, 4242u);
    EXPECT_EQ(wanMarkOf(R"({"version": 1, "vpns": {}})").mark, 10000u);
    // A broken VPN does not matter to the uplink; a broken wan section does.
    EXPECT_TRUE(wanMarkOf(R"({"version": 1, "vpns": {"x": {"id": 500}}})").errors.empty());
    const WanMark bad = wanMarkOf(R"({"version": 1, "wan": {"mark": 10001}, "vpns": {}})");
    ASSERT_EQ(bad.errors.size(), 1u);
    EXPECT_TRUE(bad.errors[0].starts_with("wan.mark: ")) << bad.errors[0];
    EXPECT_FALSE(wanMarkOf("not json").errors.empty());
}

TEST(CliWan, WithoutACommandItIsAUsageError) {
    for (const auto& args : std::vector<std::vector<std::string_view>>{
             {}, {"--"}, {"ntpdate"}, {"--mark", "10000"}, {"--bogus", "1", "--", "true"}}) {
        const Outcome outcome = wan(args);
        EXPECT_EQ(outcome.status, 1);
        EXPECT_NE(outcome.err.find("Usage: vpnsteer wan"), std::string::npos) << outcome.err;
    }
}

TEST(CliWan, ABadMarkIsQuoted) {
    const Outcome outcome = wan({"--mark", "0x", "--", "true"});
    EXPECT_EQ(outcome.status, 1);
    EXPECT_EQ(outcome.err, "vpnsteer: wan: --mark must be 1..4294967295, got '0x'\n");
}

TEST(CliWan, AnUnreadableSpecAsksForTheMark) {
    const Outcome outcome = wan({"--spec", "/nonexistent/vpns.json", "--", "true"});
    EXPECT_EQ(outcome.status, 1);
    EXPECT_EQ(outcome.err,
              "vpnsteer: wan: cannot read /nonexistent/vpns.json; give the mark with --mark\n");
}

TEST(CliWan, ASpecWithABadWanSectionStopsIt) {
    const Outcome outcome =
        wan({"--", "true"}, R"({"version": 1, "wan": {"mark": 0}, "vpns": {}})");
    EXPECT_EQ(outcome.status, 1);
    EXPECT_TRUE(outcome.err.starts_with("wan.mark: ")) << outcome.err;
}

} // namespace
} // namespace vpnsteer::cli
