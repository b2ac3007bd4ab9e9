// Listen and upstream addresses as the spec and systemd-resolved give them.
#include "service/wandns/socket_address.hpp"

#include <gtest/gtest.h>
#include <stdexcept>

namespace {

using vpnsteer::Endpoint;
using vpnsteer::wandns::SocketAddress;

TEST(WanDnsAddress, ParsesTheSpecsForms) {
    EXPECT_EQ(SocketAddress::parse("127.0.0.1:54", 53).toString(), "127.0.0.1:54");
    EXPECT_EQ(SocketAddress::parse("192.0.2.53", 53).toString(), "192.0.2.53:53");
    EXPECT_EQ(SocketAddress::parse("[::1]:54", 53).toString(), "[::1]:54");
    EXPECT_EQ(SocketAddress::parse("2001:db8::53", 53).toString(), "[2001:db8::53]:53");
    EXPECT_EQ(SocketAddress::parse("[2001:db8::53]", 5353).toString(), "[2001:db8::53]:5353");
    EXPECT_EQ(SocketAddress::parse("[fe80::1%1]:53", 53).toString(), "[fe80::1%1]:53");
}

TEST(WanDnsAddress, RefusesWhatIsNotAnIpLiteral) {
    for (const char* bad :
         {"", "dns.example", "127.1", "127.0.0.1:", "127.0.0.1:70000", "[::1", "[::1]54",
          "[192.0.2.1]:53", "1.2.3.4:5x", "[fe80::1%no-such-if9]:53"}) {
        EXPECT_THROW(SocketAddress::parse(bad, 53), std::invalid_argument) << bad;
    }
    try {
        SocketAddress::parse("dns.example", 53);
    } catch (const std::invalid_argument& error) {
        EXPECT_STREQ(error.what(), "\"dns.example\": not an IPv4 or IPv6 address");
    }
}

TEST(WanDnsAddress, TakesSpecEndpoints) {
    EXPECT_EQ(SocketAddress::fromEndpoint(Endpoint{"192.0.2.53", 53, false}).toString(),
              "192.0.2.53:53");
    EXPECT_EQ(SocketAddress::fromEndpoint(Endpoint{"::1", 54, true}).toString(), "[::1]:54");
    EXPECT_THROW(SocketAddress::fromEndpoint(Endpoint{"dns.example", 53, false}),
                 std::invalid_argument);
}

TEST(WanDnsAddress, TakesResolvedsAddressBytes) {
    const std::uint8_t v4[] = {192, 0, 2, 53};
    EXPECT_EQ(SocketAddress::fromBytes(AF_INET, v4, 53).toString(), "192.0.2.53:53");
    std::uint8_t v6[16] = {0xfe, 0x80};
    v6[15] = 1;
    EXPECT_EQ(SocketAddress::fromBytes(AF_INET6, v6, 53, 3).toString(), "[fe80::1%3]:53");
    EXPECT_THROW(SocketAddress::fromBytes(AF_INET6, v4, 53), std::invalid_argument);
}

TEST(WanDnsAddress, KnowsLoopbackClients) {
    EXPECT_TRUE(SocketAddress::parse("127.0.0.1", 1).isLoopback());
    EXPECT_TRUE(SocketAddress::parse("127.45.0.9", 1).isLoopback());
    EXPECT_TRUE(SocketAddress::parse("::1", 1).isLoopback());
    EXPECT_TRUE(SocketAddress::parse("::ffff:127.0.0.1", 1).isLoopback());
    EXPECT_FALSE(SocketAddress::parse("192.0.2.1", 1).isLoopback());
    EXPECT_FALSE(SocketAddress::parse("::ffff:192.0.2.1", 1).isLoopback());
    EXPECT_FALSE(SocketAddress::parse("2001:db8::1", 1).isLoopback());
    EXPECT_FALSE(SocketAddress().isLoopback());
}

TEST(WanDnsAddress, ComparesAddressAndPort) {
    EXPECT_EQ(SocketAddress::parse("192.0.2.53", 53), SocketAddress::parse("192.0.2.53:53", 1));
    EXPECT_NE(SocketAddress::parse("192.0.2.53", 53), SocketAddress::parse("192.0.2.53:54", 1));
    EXPECT_NE(SocketAddress::parse("192.0.2.53", 53), SocketAddress::parse("192.0.2.54", 53));
    EXPECT_NE(SocketAddress::parse("::1", 53), SocketAddress::parse("127.0.0.1", 53));
}

} // namespace
