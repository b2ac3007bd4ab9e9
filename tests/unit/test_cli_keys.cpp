// vpnsteer genkey / pubkey and the key encoding under them. The comparison with the real
// `wg` binary is in tests/cli/keys.sh; here the known answers come from RFC 7748.
#include "cli/subcommand.hpp"
#include "cli/wireguard_key.hpp"
#include "test_cli_fakes.hpp"

#include <gtest/gtest.h>
#include <string>
#include <vector>

namespace vpnsteer::cli {
namespace {

using testing::Outcome;

// genkey and pubkey are offline: the host fails the test if they reach for the bus.
Outcome run(int (*subcommand)(const Invocation&), std::string_view synopsis,
            const std::string& input = "", std::vector<std::string_view> args = {}) {
    const Host host = testing::offlineHost();
    return testing::runSubcommand(subcommand, synopsis, host, std::move(args), input);
}

Outcome pubkey(const std::string& input) {
    return run(pubkeyMain, "pubkey", input);
}

// RFC 7748 section 6.1, in base64.
constexpr std::string_view alicePrivate = "dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo=";
constexpr std::string_view alicePublic = "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=";
constexpr std::string_view bobPrivate = "XasIfmJKikt54X+Lg4AO5m87sSkmGLb9HC+LJ/+I4Os=";
constexpr std::string_view bobPublic = "3p7bfXt9wbTTW2HC7OQ1Nz+DQ8hbeGdNrfx+FG+IK08=";

const std::string badFormat = "vpnsteer: Key is not the correct length or format\n";
const std::string trailing = "vpnsteer: Trailing characters found after key\n";

TEST(Pubkey, DerivesTheRfc7748PublicKeys) {
    // Neither private key is clamped, so this also shows the scalar is clamped on the way.
    EXPECT_EQ(pubkey(std::string(alicePrivate) + "\n").out, std::string(alicePublic) + "\n");
    Outcome bob = pubkey(std::string(bobPrivate));
    EXPECT_EQ(bob.status, 0);
    EXPECT_EQ(bob.out, std::string(bobPublic) + "\n");
    EXPECT_EQ(bob.err, "");
}

TEST(Pubkey, ToleratesWhitespaceAndNulAfterTheKey) {
    for (const std::string& tail :
         std::vector<std::string>{"\n", "\r\n", " \t\n\n", std::string("\0\n", 2)}) {
        Outcome outcome = pubkey(std::string(alicePrivate) + tail);
        EXPECT_EQ(outcome.status, 0) << "tail of " << tail.size() << " bytes";
        EXPECT_EQ(outcome.out, std::string(alicePublic) + "\n");
    }
}

TEST(Pubkey, RefusesInputThatIsNotOneKey) {
    const std::string key(alicePrivate);
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"", badFormat},
        {"\n", badFormat},
        {key.substr(0, 43), badFormat},          // one character short
        {key.substr(0, 43) + "\n", badFormat},   // the newline fills the 44th place
        {key.substr(0, 42) + "*=", badFormat},   // not a base64 character
        {key.substr(0, 42) + "p=", badFormat},   // low bits of the last character set
        {key.substr(0, 43) + "A", badFormat},    // no padding: 33 bytes
        {key.substr(0, 40) + "AA==", badFormat}, // 31 bytes
        {" " + key, trailing},                   // wg takes the first 44 bytes
        {key + "x", trailing},
        {key + "\n" + key + "\n", trailing},
    };
    for (const auto& [input, message] : cases) {
        Outcome outcome = pubkey(input);
        EXPECT_EQ(outcome.status, 1) << "input: " << input;
        EXPECT_EQ(outcome.err, message) << "input: " << input;
        EXPECT_EQ(outcome.out, "") << "input: " << input;
    }
}

TEST(Pubkey, TakesNoArguments) {
    Outcome outcome = run(pubkeyMain, "pubkey", std::string(alicePrivate), {"extra"});
    EXPECT_EQ(outcome.status, 1);
    EXPECT_EQ(outcome.err, "Usage: vpnsteer pubkey\n");
    EXPECT_EQ(outcome.out, "");
}

TEST(Genkey, PrintsAClampedRandomKey) {
    Outcome first = run(genkeyMain, "genkey");
    Outcome second = run(genkeyMain, "genkey");
    ASSERT_EQ(first.status, 0);
    ASSERT_EQ(first.out.size(), wireguardKeyBase64Length + 1);
    EXPECT_EQ(first.out.back(), '\n');
    EXPECT_NE(first.out, second.out);

    WireguardKey key;
    ASSERT_TRUE(decodeKey(std::string_view(first.out).substr(0, wireguardKeyBase64Length), key));
    EXPECT_EQ(key.bytes[0] & 7, 0);
    EXPECT_EQ(key.bytes[31] & 128, 0);
    EXPECT_EQ(key.bytes[31] & 64, 64);

    // And pubkey accepts exactly what genkey prints.
    EXPECT_EQ(pubkey(first.out).status, 0);
}

TEST(Genkey, TakesNoArguments) {
    Outcome outcome = run(genkeyMain, "genkey", "", {"extra"});
    EXPECT_EQ(outcome.status, 1);
    EXPECT_EQ(outcome.err, "Usage: vpnsteer genkey\n");
    EXPECT_EQ(outcome.out, "");
}

TEST(WireguardKey, ClampingFixesTheThreeLowAndTwoHighBits) {
    WireguardKey key;
    key.bytes.fill(0xff);
    clampPrivateKey(key);
    EXPECT_EQ(key.bytes[0], 0xf8);
    EXPECT_EQ(key.bytes[1], 0xff);
    EXPECT_EQ(key.bytes[31], 0x7f);
    key.bytes.fill(0);
    clampPrivateKey(key);
    EXPECT_EQ(key.bytes[31], 0x40);
}

TEST(WireguardKey, EncodingRoundTrips) {
    ASSERT_TRUE(initialiseSodium());
    WireguardKey key;
    ASSERT_TRUE(decodeKey(bobPublic, key));
    WireguardKeyBase64 base64;
    encodeKey(key, base64);
    EXPECT_EQ(base64.view(), bobPublic);
    EXPECT_EQ(base64.text.back(), '\0');
    EXPECT_FALSE(decodeKey(std::string(bobPublic) + "\n", key));
}

} // namespace
} // namespace vpnsteer::cli
