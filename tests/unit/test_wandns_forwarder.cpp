// The WAN DNS forwarder in its sd-event loop, against fake upstreams on 127.0.0.1. The
// tests run unprivileged (mark 0); tests/wandns/ checks the mark and dnsmasq as root.
#include "service/wandns/forwarder.hpp"
#include "test_wandns_support.hpp"

#include <gtest/gtest.h>
#include <map>
#include <set>

namespace {

using namespace std::chrono_literals;
using namespace vpnsteer::wandns;
using namespace vpnsteer::wandns::testing;

ForwarderSettings loopbackSettings() {
    ForwarderSettings settings;
    settings.listen = {SocketAddress::parse("127.0.0.1:0", 0)};
    settings.attemptTimeout = 200ms;
    settings.queryTimeout = 800ms;
    return settings;
}

FakeUpstream::Answerer answerEverything() {
    return [](const Message& query, bool) { return std::vector<Message>{addressAnswer(query)}; };
}

FakeUpstream::Answerer silence() {
    return [](const Message&, bool) { return std::vector<Message>{}; };
}

// A port on 127.0.0.1 with nobody behind it: the kernel answers with ICMP port unreachable.
SocketAddress closedPort() {
    auto fd = udpSocket();
    return boundAddress(fd.get()); // closed when fd goes
}

TEST(WanDnsForwarder, RelaysTheAnswerUnderTheClientsId) {
    Loop loop;
    FakeUpstream upstream(loop, answerEverything());
    WanDnsForwarder forwarder(loop.get(), loopbackSettings(), {upstream.address()});
    UdpClient client(loop);
    const auto query = makeQuery(0x1234, "vpn-us.example.net", 1, 1232);
    client.send(query, forwarder.listenAddresses().at(0));
    ASSERT_TRUE(loop.runUntil([&] { return !client.answers().empty(); }));

    const auto& answer = client.answers().at(0);
    EXPECT_EQ(idOf(answer), 0x1234);
    EXPECT_EQ(answer, [&] {
        auto expected = addressAnswer(query);
        return expected;
    }());
    const auto counters = forwarder.counters();
    EXPECT_EQ(counters.queries, 1u);
    EXPECT_EQ(counters.answers, 1u);
    EXPECT_EQ(forwarder.queriesInFlight(), 0u);
}

TEST(WanDnsForwarder, PassesTheQueryThroughButForItsId) {
    // EDNS included: the OPT record and its option reach the upstream byte for byte.
    Loop loop;
    FakeUpstream upstream(loop, answerEverything());
    WanDnsForwarder forwarder(loop.get(), loopbackSettings(), {upstream.address()});
    UdpClient client(loop);
    const auto query = makeQuery(0x5555, "a.example", 28, 4096);
    client.send(query, forwarder.listenAddresses().at(0));
    ASSERT_TRUE(loop.runUntil([&] { return !client.answers().empty(); }));
    ASSERT_EQ(upstream.received().size(), 1u);
    const auto& sent = upstream.received()[0].message;
    ASSERT_EQ(sent.size(), query.size());
    EXPECT_TRUE(std::equal(sent.begin() + 2, sent.end(), query.begin() + 2));
}

TEST(WanDnsForwarder, GivesEachQueryAFreshPortAndIdWhenNotBusy) {
    Loop loop;
    FakeUpstream upstream(loop, answerEverything());
    WanDnsForwarder forwarder(loop.get(), loopbackSettings(), {upstream.address()});
    UdpClient client(loop);
    constexpr std::size_t count = 48;
    for (std::size_t i = 1; i <= count; ++i) {
        client.send(makeQuery(0x0101, "same.example"), forwarder.listenAddresses().at(0));
        ASSERT_TRUE(loop.runUntil([&] { return client.answers().size() == i; }));
    }
    std::set<std::uint16_t> ids;
    std::set<std::uint16_t> ports;
    for (const auto& received : upstream.received()) {
        ids.insert(idOf(received.message));
        ports.insert(received.from.port());
    }
    // 48 draws from 65536 IDs collide with probability about 2%; from ~28000 ports, about 4%.
    EXPECT_GE(ids.size(), count - 2);
    EXPECT_GE(ports.size(), count - 2);
}

TEST(WanDnsForwarder, SharesAFewRandomPortsAmongConcurrentQueries) {
    Loop loop;
    FakeUpstream upstream(loop, answerEverything());
    auto settings = loopbackSettings();
    settings.upstreamSocketsPerServer = 8;
    settings.upstreamSocketUses = 4;
    // The test counts the queries upstream: a retry after a timeout would add one, and a
    // loaded machine can hold this one-threaded loop for longer than the usual 200 ms.
    settings.attemptTimeout = 5s;
    settings.queryTimeout = 10s;
    WanDnsForwarder forwarder(loop.get(), settings, {upstream.address()});
    UdpClient client(loop);
    constexpr std::size_t count = 64;
    for (std::size_t i = 0; i < count; ++i) {
        client.send(makeQuery(0x0202, "same.example"), forwarder.listenAddresses().at(0));
    }
    ASSERT_TRUE(loop.runUntil([&] { return client.answers().size() == count; }, 10s));
    std::map<std::uint16_t, std::set<std::uint16_t>> idsByPort;
    for (const auto& received : upstream.received()) {
        idsByPort[received.from.port()].insert(idOf(received.message));
    }
    // No port carries more than 4 queries, so 64 queries need at least 16 ports; and the
    // queries sharing a port have IDs of their own.
    EXPECT_GE(idsByPort.size(), count / 4);
    std::size_t total = 0;
    for (const auto& [port, ids] : idsByPort) {
        EXPECT_LE(ids.size(), 4u) << "port " << port;
        total += ids.size();
    }
    EXPECT_EQ(total, count);
}

TEST(WanDnsForwarder, IgnoresAnswersWithAnotherIdOrQuestion) {
    Loop loop;
    FakeUpstream upstream(loop, [](const Message& query, bool) {
        auto wrongId = addressAnswer(query, 1);
        wrongId[0] ^= 0xff;
        auto wrongQuestion = addressAnswer(makeQuery(idOf(query), "evil.example"), 2);
        auto notDns = Message{1, 2, 3};
        return std::vector<Message>{wrongId, wrongQuestion, notDns, addressAnswer(query, 3)};
    });
    WanDnsForwarder forwarder(loop.get(), loopbackSettings(), {upstream.address()});
    UdpClient client(loop);
    client.send(makeQuery(7, "good.example"), forwarder.listenAddresses().at(0));
    ASSERT_TRUE(loop.runUntil([&] { return !client.answers().empty(); }));
    loop.runFor(50ms);
    ASSERT_EQ(client.answers().size(), 1u);
    EXPECT_EQ(client.answers()[0].back(), 3); // 203.0.113.3: the one true answer
    EXPECT_EQ(forwarder.counters().mismatchedAnswers, 2u);
    EXPECT_EQ(forwarder.counters().malformedDropped, 1u);
}

TEST(WanDnsForwarder, RetriesTheNextServerAfterATimeoutAndPrefersIt) {
    Loop loop;
    FakeUpstream silent(loop, silence());
    FakeUpstream working(loop, answerEverything());
    WanDnsForwarder forwarder(loop.get(), loopbackSettings(),
                              {silent.address(), working.address()});
    UdpClient client(loop);
    const auto started = std::chrono::steady_clock::now();
    client.send(makeQuery(1, "a.example"), forwarder.listenAddresses().at(0));
    ASSERT_TRUE(loop.runUntil([&] { return client.answers().size() == 1; }));
    EXPECT_GE(std::chrono::steady_clock::now() - started, 150ms);
    EXPECT_EQ(rcodeOf(client.answers()[0]), 0u);
    EXPECT_EQ(forwarder.counters().timeouts, 1u);

    client.send(makeQuery(2, "b.example"), forwarder.listenAddresses().at(0));
    ASSERT_TRUE(loop.runUntil([&] { return client.answers().size() == 2; }, 150ms));
    EXPECT_EQ(silent.received().size(), 1u);
    EXPECT_EQ(working.received().size(), 2u);
}

TEST(WanDnsForwarder, AnswersServfailWhenNoServerAnswersInTime) {
    Loop loop;
    FakeUpstream silent(loop, silence());
    WanDnsForwarder forwarder(loop.get(), loopbackSettings(), {silent.address()});
    UdpClient client(loop);
    const auto started = std::chrono::steady_clock::now();
    client.send(makeQuery(0x7777, "a.example"), forwarder.listenAddresses().at(0));
    ASSERT_TRUE(loop.runUntil([&] { return !client.answers().empty(); }));
    const auto took = std::chrono::steady_clock::now() - started;
    EXPECT_GE(took, 790ms);
    EXPECT_LE(took, 1000ms);
    EXPECT_EQ(idOf(client.answers()[0]), 0x7777);
    EXPECT_EQ(rcodeOf(client.answers()[0]), 2u);
    EXPECT_EQ(forwarder.counters().servfails, 1u);
    EXPECT_GE(silent.received().size(), 3u); // retransmitted at each attempt timeout
}

TEST(WanDnsForwarder, AnswersServfailAtOnceWhenEveryServerRefuses) {
    Loop loop;
    auto settings = loopbackSettings();
    settings.attemptTimeout = 2000ms;
    settings.queryTimeout = 4000ms;
    WanDnsForwarder forwarder(loop.get(), settings, {closedPort(), closedPort()});
    UdpClient client(loop);
    const auto started = std::chrono::steady_clock::now();
    client.send(makeQuery(1, "a.example"), forwarder.listenAddresses().at(0));
    ASSERT_TRUE(loop.runUntil([&] { return !client.answers().empty(); }));
    EXPECT_LE(std::chrono::steady_clock::now() - started, 500ms);
    EXPECT_EQ(rcodeOf(client.answers()[0]), 2u);
    EXPECT_EQ(forwarder.counters().upstreamErrors, 2u);
}

TEST(WanDnsForwarder, AsksAgainOverTcpWhenTheAnswerIsTruncated) {
    Loop loop;
    FakeUpstream upstream(loop, [](const Message& query, bool tcp) {
        const auto full = makeAnswer(query, 16, bigTxt(3000));
        if (tcp) {
            return std::vector<Message>{full};
        }
        Message truncated(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(query.size()));
        truncated[2] |= 0x02;
        truncated[7] = 0; // no answers
        return std::vector<Message>{truncated};
    });
    WanDnsForwarder forwarder(loop.get(), loopbackSettings(), {upstream.address()});
    UdpClient client(loop);
    const auto query = makeQuery(0x3131, "big.example", 16, 4096);
    client.send(query, forwarder.listenAddresses().at(0));
    ASSERT_TRUE(loop.runUntil([&] { return !client.answers().empty(); }));
    const auto& answer = client.answers()[0];
    EXPECT_EQ(answer, makeAnswer(query, 16, bigTxt(3000)));
    EXPECT_EQ(flagsOf(answer) & 0x0200, 0);
    EXPECT_EQ(forwarder.counters().truncatedRetries, 1u);
    ASSERT_EQ(upstream.received().size(), 2u);
    EXPECT_TRUE(upstream.received()[1].tcp);
    EXPECT_NE(idOf(upstream.received()[1].message), idOf(upstream.received()[0].message));
}

TEST(WanDnsForwarder, TruncatesForAClientThatAcceptsLess) {
    Loop loop;
    FakeUpstream upstream(loop, [](const Message& query, bool) {
        return std::vector<Message>{makeAnswer(query, 16, bigTxt(1000))};
    });
    WanDnsForwarder forwarder(loop.get(), loopbackSettings(), {upstream.address()});
    UdpClient client(loop);
    const auto query = makeQuery(9, "big.example", 16); // no EDNS: 512 bytes at most
    client.send(query, forwarder.listenAddresses().at(0));
    ASSERT_TRUE(loop.runUntil([&] { return !client.answers().empty(); }));
    const auto& answer = client.answers()[0];
    EXPECT_EQ(answer.size(), query.size());
    EXPECT_NE(flagsOf(answer) & 0x0200, 0);
    EXPECT_EQ(idOf(answer), 9);

    // Over TCP the same client gets all of it.
    TcpClient tcp(loop, forwarder.listenAddresses().at(0));
    ASSERT_TRUE(tcp.connected());
    tcp.send(query);
    ASSERT_TRUE(loop.runUntil([&] { return !tcp.answers().empty(); }));
    EXPECT_EQ(tcp.answers()[0], makeAnswer(query, 16, bigTxt(1000)));
}

TEST(WanDnsForwarder, ServesPipelinedTcpQueries) {
    Loop loop;
    FakeUpstream upstream(loop, answerEverything());
    auto settings = loopbackSettings();
    settings.maxQueriesPerTcpClient = 2; // the third waits in the buffer until one is done
    WanDnsForwarder forwarder(loop.get(), settings, {upstream.address()});
    TcpClient tcp(loop, forwarder.listenAddresses().at(0));
    Message all;
    for (std::uint16_t id = 1; id <= 5; ++id) {
        const auto query = makeQuery(id, "pipelined.example");
        put16(all, static_cast<std::uint16_t>(query.size()));
        all.insert(all.end(), query.begin(), query.end());
    }
    tcp.sendRaw(all); // one segment, five queries
    ASSERT_TRUE(loop.runUntil([&] { return tcp.answers().size() == 5; }));
    std::set<std::uint16_t> ids;
    for (const auto& answer : tcp.answers()) {
        ids.insert(idOf(answer));
    }
    EXPECT_EQ(ids, (std::set<std::uint16_t>{1, 2, 3, 4, 5}));
}

TEST(WanDnsForwarder, SurvivesGarbageAndKeepsServing) {
    Loop loop;
    FakeUpstream upstream(loop, answerEverything());
    WanDnsForwarder forwarder(loop.get(), loopbackSettings(), {upstream.address()});
    UdpClient client(loop);
    const auto to = forwarder.listenAddresses().at(0);
    client.send(Message{}, to);
    client.send(Message(5, 0xff), to);
    client.send(Message(65000, 0x41), to);
    auto response = makeQuery(1, "a.example");
    response[2] |= 0x80;
    client.send(response, to);
    auto twoQuestions = makeQuery(2, "a.example");
    twoQuestions[5] = 2;
    client.send(twoQuestions, to);
    auto update = makeQuery(3, "a.example");
    update[2] = static_cast<std::uint8_t>(update[2] | (5 << 3));
    client.send(update, to);
    client.send(makeQuery(4, "ok.example"), to);
    ASSERT_TRUE(loop.runUntil([&] { return client.answers().size() == 4; }));
    loop.runFor(50ms);
    ASSERT_EQ(client.answers().size(), 4u);
    std::map<std::uint16_t, unsigned> rcodes;
    for (const auto& answer : client.answers()) {
        rcodes[idOf(answer)] = rcodeOf(answer);
    }
    // 65000 'A's read as a query with ID 0x4141 and opcode 8: NOTIMP, like UPDATE.
    EXPECT_EQ(rcodes, (std::map<std::uint16_t, unsigned>{{2, 1}, {3, 4}, {4, 0}, {0x4141, 4}}));
    const auto counters = forwarder.counters();
    EXPECT_EQ(counters.malformedDropped, 3u); // empty, 5 bytes, a response
    EXPECT_EQ(counters.formatErrors, 3u);     // two questions, UPDATE, opcode 8
}

TEST(WanDnsForwarder, BoundsTheQueriesInFlight) {
    Loop loop;
    FakeUpstream silent(loop, silence());
    auto settings = loopbackSettings();
    settings.maxQueriesInFlight = 5;
    WanDnsForwarder forwarder(loop.get(), settings, {silent.address()});
    UdpClient client(loop);
    for (std::uint16_t id = 0; id < 12; ++id) {
        client.send(makeQuery(id, "a.example"), forwarder.listenAddresses().at(0));
    }
    ASSERT_TRUE(loop.runUntil([&] { return forwarder.counters().queries == 12; }));
    EXPECT_EQ(forwarder.queriesInFlight(), 5u);
    EXPECT_EQ(forwarder.counters().overloaded, 7u);
    ASSERT_TRUE(loop.runUntil([&] { return client.answers().size() == 5; }));
    EXPECT_EQ(forwarder.queriesInFlight(), 0u);
}

TEST(WanDnsForwarder, FollowsItsUpstreamList) {
    Loop loop;
    FakeUpstream upstream(loop, answerEverything());
    WanDnsForwarder forwarder(loop.get(), loopbackSettings());
    UdpClient client(loop);
    client.send(makeQuery(1, "a.example"), forwarder.listenAddresses().at(0));
    ASSERT_TRUE(loop.runUntil([&] { return client.answers().size() == 1; }));
    EXPECT_EQ(rcodeOf(client.answers()[0]), 2u); // no upstream yet

    forwarder.setUpstreams({upstream.address()});
    client.send(makeQuery(2, "a.example"), forwarder.listenAddresses().at(0));
    ASSERT_TRUE(loop.runUntil([&] { return client.answers().size() == 2; }));
    EXPECT_EQ(rcodeOf(client.answers()[1]), 0u);
    EXPECT_EQ(forwarder.upstreams(), std::vector<SocketAddress>{upstream.address()});
}

TEST(WanDnsForwarder, ClosesIdleAndBrokenTcpConnections) {
    Loop loop;
    FakeUpstream upstream(loop, answerEverything());
    auto settings = loopbackSettings();
    settings.tcpIdleTimeout = 100ms;
    settings.maxTcpClients = 2;
    WanDnsForwarder forwarder(loop.get(), settings, {upstream.address()});
    const auto to = forwarder.listenAddresses().at(0);

    TcpClient idle(loop, to);
    TcpClient partial(loop, to);
    partial.sendRaw({0x00, 0x40, 0x01}); // announces 64 bytes, sends 1
    ASSERT_TRUE(loop.runUntil([&] { return forwarder.tcpClients() == 2; }));
    TcpClient third(loop, to); // over the bound: closed at once
    ASSERT_TRUE(loop.runUntil([&] { return third.closed(); }, 500ms));
    ASSERT_TRUE(loop.runUntil([&] { return idle.closed() && partial.closed(); }, 1000ms));
    EXPECT_EQ(forwarder.tcpClients(), 0u);
    EXPECT_EQ(forwarder.counters().overloaded, 1u);

    TcpClient zeroLength(loop, to);
    zeroLength.sendRaw({0x00, 0x00});
    ASSERT_TRUE(loop.runUntil([&] { return zeroLength.closed(); }, 500ms));
}

TEST(WanDnsForwarder, RefusesToStartOnAnAddressInUse) {
    Loop loop;
    WanDnsForwarder first(loop.get(), loopbackSettings());
    auto settings = loopbackSettings();
    settings.listen = first.listenAddresses();
    try {
        WanDnsForwarder second(loop.get(), settings);
        FAIL() << "bound twice";
    } catch (const std::system_error& error) {
        EXPECT_EQ(error.code().value(), EADDRINUSE);
        EXPECT_NE(std::string(error.what()).find(settings.listen[0].toString()), std::string::npos);
    }
}

TEST(WanDnsForwarder, ServesIpv6Loopback) {
    Loop loop;
    FakeUpstream upstream(loop, answerEverything());
    auto settings = loopbackSettings();
    settings.listen = {SocketAddress::parse("[::1]:0", 0)};
    WanDnsForwarder forwarder(loop.get(), settings, {upstream.address()});
    UdpClient client(loop, "[::1]:0");
    client.send(makeQuery(6, "v6.example"), forwarder.listenAddresses().at(0));
    ASSERT_TRUE(loop.runUntil([&] { return !client.answers().empty(); }));
    EXPECT_EQ(rcodeOf(client.answers()[0]), 0u);
}

} // namespace
