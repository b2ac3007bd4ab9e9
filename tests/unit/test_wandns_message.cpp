// The forwarder's DNS message handling: what it forwards, what it answers itself, and which
// upstream answers it accepts.
#include "service/wandns/dns_message.hpp"
#include "test_wandns_support.hpp"

#include <gtest/gtest.h>

namespace {

using namespace vpnsteer::wandns;
using namespace vpnsteer::wandns::testing;
using dns::AnswerVerdict;
using dns::QueryVerdict;

TEST(WanDnsMessage, ForwardsAStandardQuery) {
    const auto query = makeQuery(0x1234, "vpn-us.example.net", 28);
    const auto inspection = dns::inspectQuery(query);
    ASSERT_EQ(inspection.verdict, QueryVerdict::forward);
    EXPECT_EQ(inspection.header.id, 0x1234);
    EXPECT_EQ(inspection.question.type, 28);
    EXPECT_EQ(inspection.question.qclass, 1);
    EXPECT_EQ(inspection.question.nameLength, 20u); // 6 vpn-us 7 example 3 net 0
    EXPECT_EQ(inspection.question.end(), query.size());
    EXPECT_EQ(inspection.udpLimit, 512);
}

TEST(WanDnsMessage, ReadsTheClientsEdnsPayloadSize) {
    EXPECT_EQ(dns::inspectQuery(makeQuery(1, "a.example", 1, 1232)).udpLimit, 1232);
    EXPECT_EQ(dns::inspectQuery(makeQuery(1, "a.example", 1, 4096)).udpLimit, 4096);
    // RFC 6891 §6.2.5: values below 512 are treated as 512.
    EXPECT_EQ(dns::inspectQuery(makeQuery(1, "a.example", 1, 100)).udpLimit, 512);
}

TEST(WanDnsMessage, AnOptRecordCutShortMeansClassicSize) {
    auto query = makeQuery(1, "a.example", 1, 4096);
    query.resize(query.size() - 6);
    const auto inspection = dns::inspectQuery(query);
    EXPECT_EQ(inspection.verdict, QueryVerdict::forward); // upstream judges the rest
    EXPECT_EQ(inspection.udpLimit, 512);
}

TEST(WanDnsMessage, DropsWhatIsNotAQuery) {
    EXPECT_EQ(dns::inspectQuery(Message{}).verdict, QueryVerdict::drop);
    EXPECT_EQ(dns::inspectQuery(Message(11, 0)).verdict, QueryVerdict::drop);
    auto response = makeQuery(1, "a.example");
    response[2] |= 0x80;
    EXPECT_EQ(dns::inspectQuery(response).verdict, QueryVerdict::drop);
}

TEST(WanDnsMessage, AnswersFormerrForAnythingButOneQuestion) {
    auto none = makeQuery(1, "a.example");
    none[5] = 0;
    EXPECT_EQ(dns::inspectQuery(none).verdict, QueryVerdict::formatError);
    auto two = makeQuery(1, "a.example");
    two[5] = 2;
    EXPECT_EQ(dns::inspectQuery(two).verdict, QueryVerdict::formatError);
    auto cut = makeQuery(1, "a.example");
    cut.resize(cut.size() - 1);
    EXPECT_EQ(dns::inspectQuery(cut).verdict, QueryVerdict::formatError);
}

TEST(WanDnsMessage, RefusesCompressionAndBadLabelsInTheQuestion) {
    Message pointer = makeQuery(1, "");
    pointer.resize(12);
    pointer.insert(pointer.end(), {0xc0, 0x0c, 0, 1, 0, 1});
    EXPECT_EQ(dns::inspectQuery(pointer).verdict, QueryVerdict::formatError);
    Message extended = makeQuery(1, "");
    extended.resize(12);
    extended.insert(extended.end(), {0x41, 'a', 0, 0, 1, 0, 1});
    EXPECT_EQ(dns::inspectQuery(extended).verdict, QueryVerdict::formatError);
}

TEST(WanDnsMessage, RefusesNamesLongerThan255Bytes) {
    std::string longest;
    for (int i = 0; i < 4; ++i) {
        longest += std::string(i < 3 ? 63 : 61, 'a') + (i < 3 ? "." : "");
    }
    // 4 length bytes + 63*3 + 61 + the zero byte = 255
    EXPECT_EQ(dns::inspectQuery(makeQuery(1, longest)).verdict, QueryVerdict::forward);
    EXPECT_EQ(dns::inspectQuery(makeQuery(1, longest + "a")).verdict, QueryVerdict::formatError);
}

TEST(WanDnsMessage, AnswersNotimpForOtherOpcodes) {
    auto notify = makeQuery(1, "a.example");
    notify[2] = static_cast<std::uint8_t>(notify[2] | (4 << 3)); // NOTIFY
    EXPECT_EQ(dns::inspectQuery(notify).verdict, QueryVerdict::notImplemented);
}

TEST(WanDnsMessage, AcceptsOnlyTheAnswerWithTheSentIdAndQuestion) {
    const auto query = makeQuery(0x4242, "host.example");
    const auto question = *dns::readQuestion(query);
    const auto answer = addressAnswer(query);
    EXPECT_EQ(dns::inspectAnswer(answer, 0x4242, query, question), AnswerVerdict::accept);
    EXPECT_EQ(dns::inspectAnswer(answer, 0x4243, query, question), AnswerVerdict::wrongId);
    const auto other = addressAnswer(makeQuery(0x4242, "other.example"));
    EXPECT_EQ(dns::inspectAnswer(other, 0x4242, query, question), AnswerVerdict::wrongQuestion);
    const auto otherType = addressAnswer(makeQuery(0x4242, "host.example", 28));
    EXPECT_EQ(dns::inspectAnswer(otherType, 0x4242, query, question), AnswerVerdict::wrongQuestion);
    EXPECT_EQ(dns::inspectAnswer(query, 0x4242, query, question), AnswerVerdict::malformed);
    EXPECT_EQ(dns::inspectAnswer(Message(5, 0), 0x4242, query, question), AnswerVerdict::malformed);
}

TEST(WanDnsMessage, MatchesNamesWithoutRegardToCase) {
    // RFC 4343; resolvers that randomize case (DNS 0x20) rely on the echo.
    const auto query = makeQuery(7, "Host.Example");
    const auto answer = addressAnswer(makeQuery(7, "hOST.eXAMPLE"));
    EXPECT_EQ(dns::inspectAnswer(answer, 7, query, *dns::readQuestion(query)),
              AnswerVerdict::accept);
}

TEST(WanDnsMessage, ServfailKeepsIdQuestionAndRecursionDesired) {
    const auto query = makeQuery(0xbeef, "down.example", 1, 1232);
    const auto response = dns::errorResponse(query, dns::Rcode::serverFailure);
    EXPECT_EQ(idOf(response), 0xbeef);
    EXPECT_EQ(flagsOf(response), 0x8000 | 0x0100 | 0x0080 | 2);
    EXPECT_EQ(get16(response, 4), 1);
    EXPECT_EQ(get16(response, 10), 0);
    const auto question = *dns::readQuestion(query);
    EXPECT_EQ(response.size(), question.end());
    EXPECT_TRUE(std::equal(response.begin() + 12, response.end(), query.begin() + 12));
}

TEST(WanDnsMessage, FormerrOfAnUnreadableQuestionIsAHeaderOnly) {
    auto query = makeQuery(9, "a.example");
    query[5] = 3;
    const auto response = dns::errorResponse(query, dns::Rcode::formatError);
    EXPECT_EQ(response.size(), 12u);
    EXPECT_EQ(rcodeOf(response), 1u);
    EXPECT_EQ(get16(response, 4), 0);
}

TEST(WanDnsMessage, TruncatedResponseKeepsOnlyHeaderAndQuestion) {
    const auto query = makeQuery(3, "big.example", 16);
    const auto answer = makeAnswer(query, 16, bigTxt(1000));
    const auto truncated = dns::truncatedResponse(answer);
    EXPECT_EQ(truncated.size(), query.size());
    EXPECT_NE(flagsOf(truncated) & 0x0200, 0);
    EXPECT_EQ(get16(truncated, 6), 0);
    EXPECT_EQ(dns::inspectAnswer(truncated, 3, query, *dns::readQuestion(query)),
              AnswerVerdict::accept);
}

TEST(WanDnsMessage, SetIdRewritesOnlyTheFirstTwoBytes) {
    auto query = makeQuery(0x0102, "a.example", 1, 1232);
    const auto before = query;
    dns::setId(query, 0xa0b0);
    EXPECT_EQ(idOf(query), 0xa0b0);
    EXPECT_TRUE(std::equal(query.begin() + 2, query.end(), before.begin() + 2));
}

} // namespace
