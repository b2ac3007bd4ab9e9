// libFuzzer target for the WAN DNS forwarder's message handling (service/wandns/
// dns_message.hpp): every input is read as a client query and as an upstream answer. No
// input may crash it or make it read outside the message (ASan), and what it builds from
// an input must be well-formed by its own rules.
#include "service/wandns/dns_message.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

namespace {

using namespace vpnsteer::wandns;

void require(bool condition) {
    if (!condition) {
        std::abort();
    }
}

// The query the fuzzer's answers are matched against: "www.example" A, with EDNS.
const std::vector<std::uint8_t> knownQuery = {
    0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 3,    'w',
    'w',  'w',  7,    'e',  'x',  'a',  'm',  'p',  'l',  'e',  0,    0x00, 0x01, 0x00,
    0x01, 0x00, 0x00, 0x29, 0x04, 0xd0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};

void asQuery(dns::Bytes input) {
    const auto inspection = dns::inspectQuery(input);
    if (inspection.verdict == dns::QueryVerdict::drop) {
        return;
    }
    require(input.size() >= dns::headerSize);
    const auto formerr = dns::errorResponse(input, dns::Rcode::formatError);
    require(dns::readHeader(formerr).has_value());
    require(formerr.size() <= input.size());
    if (inspection.verdict != dns::QueryVerdict::forward) {
        return;
    }
    const auto& question = inspection.question;
    require(question.end() <= input.size());
    require(question.nameLength >= 1 && question.nameLength <= 255);
    require(inspection.udpLimit >= dns::classicUdpPayload);

    // The SERVFAIL made for it answers it, by the matcher's own rules.
    const auto servfail = dns::errorResponse(input, dns::Rcode::serverFailure);
    require(servfail.size() == question.end());
    require(dns::inspectAnswer(servfail, inspection.header.id, input, question) ==
            dns::AnswerVerdict::accept);
    require(dns::sameQuestion(input, question, servfail, *dns::readQuestion(servfail)));

    // Rewriting the ID changes the first two bytes only.
    std::vector<std::uint8_t> copy(input.begin(), input.end());
    dns::setId(copy, static_cast<std::uint16_t>(inspection.header.id ^ 0xffff));
    require(dns::readHeader(copy)->id == (inspection.header.id ^ 0xffff));
    for (std::size_t i = 2; i < copy.size(); ++i) {
        require(copy[i] == input[i]);
    }
}

void asAnswer(dns::Bytes input) {
    const auto question = *dns::readQuestion(knownQuery);
    const auto verdict = dns::inspectAnswer(input, 0x1234, knownQuery, question);
    if (verdict != dns::AnswerVerdict::accept) {
        return;
    }
    require(dns::readHeader(input)->isResponse());
    // What a UDP client gets when this answer is too big for it: still an answer to the
    // same query, never longer than the answer, with TC set.
    const auto truncated = dns::truncatedResponse(input);
    require(truncated.size() <= input.size());
    require(dns::readHeader(truncated)->isTruncated());
    require(dns::inspectAnswer(truncated, 0x1234, knownQuery, question) ==
            dns::AnswerVerdict::accept);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    // The input is copied into a buffer of its exact size so that ASan sees any read past it.
    const std::vector<std::uint8_t> message(data, data + size);
    asQuery(message);
    asAnswer(message);
    // A query "answered" by itself with QR set must be matched or refused, never crash.
    if (const auto question = dns::readQuestion(message)) {
        require(dns::sameQuestion(message, *question, message, *question));
        (void)dns::udpPayloadLimit(message, *question);
    }
    return 0;
}
