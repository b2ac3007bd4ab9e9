// vpnsteer check: the summary of a valid spec, the exact error lines of an invalid one, and
// files that cannot be read.
#include "cli/subcommand.hpp"
#include "core/spec.hpp"
#include "test_cli_fakes.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <sstream>
#include <string>
#include <vector>

namespace vpnsteer::cli {
namespace {

using testing::Outcome;

// check is offline: the host fails the test if it reaches for the bus.
Outcome check(std::vector<std::string_view> args, const std::string& input = "") {
    const Host host = testing::offlineHost();
    return testing::runSubcommand(checkMain, "check FILE", host, std::move(args), input);
}

// Two VPNs whose names sort the other way round from their ids, so the test sees that the
// summary is in id order.
const std::string validSpec = R"({
  "version": 1,
  "vpns": {
    "us": { "id": 2, "endpoint": "vpn-us.example.net:51820",
            "publicKey": "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=",
            "addrV4": "198.51.100.2", "addrV6": "2001:db8:1::2", "dns": ["198.51.100.53"],
            "privateKeyFile": "/etc/vpnsteer/us.key", "bridgeDevice": "br-usa" },
    "zz": { "id": 1, "addrV4": "198.51.100.3/32", "privateKeyFile": "/etc/vpnsteer/zz.key",
            "peers": [ { "name": "gw1", "publicKey": "3p7bfXt9wbTTW2HC7OQ1Nz+DQ8hbeGdNrfx+FG+IK08=",
                         "endpoint": "192.0.2.10:51820" } ] }
  }
})";

// Two bad VPNs, so more than one error line is expected.
const std::string invalidSpec = R"({
  "version": 1,
  "vpns": {
    "us": { "id": 120, "endpoint": "vpn-us.example.net:51820",
            "publicKey": "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=",
            "addrV4": "198.51.100.2", "privateKeyFile": "/etc/vpnsteer/us.key" },
    "de": { "id": 3, "endpoint": "vpn-de.example.net:51820", "publicKey": "short",
            "addrV4": "198.51.100.4", "privateKeyFile": "relative.key" }
  }
})";

class CheckFile : public ::testing::Test {
protected:
    void SetUp() override {
        std::string pattern = (std::filesystem::temp_directory_path() / "test_cli.XXXXXX");
        ASSERT_NE(mkdtemp(pattern.data()), nullptr);
        folder_ = pattern;
    }
    void TearDown() override { std::filesystem::remove_all(folder_); }

    std::string write(const std::string& name, const std::string& text) {
        std::filesystem::path path = folder_ / name;
        std::ofstream(path) << text;
        return path;
    }

    std::filesystem::path folder_;
};

TEST_F(CheckFile, SummarisesEachVpnInIdOrder) {
    ASSERT_TRUE(parseSpec(validSpec).ok()) << parseSpec(validSpec).errors.front().toString();
    Outcome outcome = check({write("vpns.json", validSpec)});
    EXPECT_EQ(outcome.status, 0);
    EXPECT_EQ(outcome.err, "");
    EXPECT_EQ(outcome.out,
              "zz: id 1, table 1, fwmark 10001, bridge br-zz 10.20.1.1/24, protocol wireguard\n"
              "us: id 2, table 2, fwmark 10002, bridge br-usa 10.20.2.1/24, protocol wireguard\n");
}

TEST_F(CheckFile, ReadsStandardInputForDash) {
    Outcome outcome = check({"-"}, validSpec);
    EXPECT_EQ(outcome.status, 0);
    EXPECT_EQ(outcome.out.substr(0, 4), "zz: ");
}

TEST_F(CheckFile, PrintsEveryErrorAsPathColonMessageOnStderrOnly) {
    const ParseResult expected = parseSpec(invalidSpec);
    ASSERT_GE(expected.errors.size(), 3u);
    std::string lines;
    for (const SpecError& error : expected.errors)
        lines += error.path + ": " + error.message + "\n";

    Outcome outcome = check({write("vpns.json", invalidSpec)});
    EXPECT_EQ(outcome.status, 1);
    EXPECT_EQ(outcome.out, "");
    EXPECT_EQ(outcome.err, lines);
    EXPECT_NE(outcome.err.find("vpns.us.id: "), std::string::npos) << outcome.err;
    EXPECT_NE(outcome.err.find("vpns.de.publicKey: "), std::string::npos) << outcome.err;
    EXPECT_NE(outcome.err.find("vpns.de.privateKeyFile: "), std::string::npos) << outcome.err;
}

TEST_F(CheckFile, RefusesTextThatIsNotJson) {
    Outcome outcome = check({"-"}, "{ not json");
    EXPECT_EQ(outcome.status, 1);
    EXPECT_EQ(outcome.out, "");
    EXPECT_NE(outcome.err, "");
}

TEST_F(CheckFile, NamesAnUnreadableFileAndTheReason) {
    const std::string missing = (folder_ / "missing.json").string();
    Outcome outcome = check({missing});
    EXPECT_EQ(outcome.status, 1);
    EXPECT_EQ(outcome.err, "vpnsteer: cannot read " + missing + ": No such file or directory\n");
    EXPECT_EQ(outcome.out, "");

    outcome = check({folder_.string()});
    EXPECT_EQ(outcome.status, 1);
    EXPECT_EQ(outcome.err, "vpnsteer: cannot read " + folder_.string() + ": Is a directory\n");
}

TEST(Check, WantsExactlyOneFile) {
    for (std::vector<std::string_view> args :
         {std::vector<std::string_view>{}, std::vector<std::string_view>{"a", "b"}}) {
        Outcome outcome = check(args);
        EXPECT_EQ(outcome.status, 1);
        EXPECT_EQ(outcome.err, "Usage: vpnsteer check FILE\n");
        EXPECT_EQ(outcome.out, "");
    }
}

} // namespace
} // namespace vpnsteer::cli
