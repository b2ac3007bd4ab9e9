// The little of a DNS message (RFC 1035 §4.1) the WAN DNS forwarder reads: the header, the
// one question, and the EDNS payload size of a query (RFC 6891 §6.2.3). Everything else in a
// message is passed through byte for byte, EDNS options included.
//
// Pure: functions take bytes and return values; no input can make them read outside the
// span they are given. tests/fuzz/wandns_fuzzer.cpp holds them to that.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace vpnsteer::wandns::dns {

using Bytes = std::span<const std::uint8_t>;

inline constexpr std::size_t headerSize = 12;
// The largest message a 16-bit TCP length prefix can announce (RFC 1035 §4.2.2).
inline constexpr std::size_t maxMessageSize = 65535;
// A client that sends no OPT record accepts no more than this over UDP (RFC 1035 §4.2.1).
inline constexpr std::uint16_t classicUdpPayload = 512;

namespace flags {
inline constexpr std::uint16_t response = 0x8000;
inline constexpr std::uint16_t opcodeMask = 0x7800;
inline constexpr std::uint16_t truncated = 0x0200;
inline constexpr std::uint16_t recursionDesired = 0x0100;
inline constexpr std::uint16_t recursionAvailable = 0x0080;
inline constexpr std::uint16_t rcodeMask = 0x000f;
} // namespace flags

enum class Rcode : std::uint8_t {
    noError = 0,
    formatError = 1,
    serverFailure = 2,
    notImplemented = 4,
    refused = 5,
};

struct Header {
    std::uint16_t id = 0;
    std::uint16_t flags = 0;
    std::uint16_t questionCount = 0;
    std::uint16_t answerCount = 0;
    std::uint16_t authorityCount = 0;
    std::uint16_t additionalCount = 0;

    bool isResponse() const { return (flags & flags::response) != 0; }
    bool isTruncated() const { return (flags & flags::truncated) != 0; }
    unsigned opcode() const { return (flags & flags::opcodeMask) >> 11; }
};

std::optional<Header> readHeader(Bytes message);

// The first question of a message, as a place in it. The name is in wire form and
// uncompressed: a question is the first name of a message, so nothing precedes it that a
// compression pointer could legitimately point to.
struct Question {
    std::size_t nameOffset = headerSize;
    std::size_t nameLength = 0; // wire bytes, the final zero label included
    std::uint16_t type = 0;
    std::uint16_t qclass = 0;

    std::size_t end() const { return nameOffset + nameLength + 4; }
};

// The question of a message whose header says it has exactly one.
std::optional<Question> readQuestion(Bytes message);

// Same name (ASCII case-insensitively, RFC 4343), type and class.
bool sameQuestion(Bytes a, const Question& questionA, Bytes b, const Question& questionB);

// The UDP payload size the sender of `message` accepts: the OPT record's class, never below
// 512; 512 without an OPT record or when the records cannot be walked.
std::uint16_t udpPayloadLimit(Bytes message, const Question& question);

enum class QueryVerdict {
    forward,        // a standard query with one question
    drop,           // not a DNS query at all (too short, or a response): no answer
    formatError,    // a query, but not with exactly one well-formed question
    notImplemented, // an opcode other than QUERY
};

struct QueryInspection {
    QueryVerdict verdict = QueryVerdict::drop;
    Header header;
    Question question;                          // valid when verdict == forward
    std::uint16_t udpLimit = classicUdpPayload; // valid when verdict == forward
};

QueryInspection inspectQuery(Bytes message);

enum class AnswerVerdict {
    accept,        // the answer to the query
    malformed,     // not a DNS response with a readable question
    wrongId,       // a response, but to another query ID
    wrongQuestion, // the right ID, but another question: a spoofing attempt or a stale answer
};

// Whether `answer` answers `query` (whose question is `queryQuestion`) sent with the ID
// `sentId`. RFC 5452 §9.1: ID and question must both match; the caller checks the source.
AnswerVerdict inspectAnswer(Bytes answer, std::uint16_t sentId, Bytes query,
                            const Question& queryQuestion);

void setId(std::span<std::uint8_t> message, std::uint16_t id);

// An answer made here rather than upstream: the query's header with QR and `rcode` set,
// and its question when it has a well-formed one. `query` must hold at least a header.
std::vector<std::uint8_t> errorResponse(Bytes query, Rcode rcode);

// What a UDP client gets when the answer exceeds what it accepts: the answer's header with
// TC set and no records, and its question, so it asks again over TCP (RFC 7766 §5).
// `answer` must have passed inspectAnswer.
std::vector<std::uint8_t> truncatedResponse(Bytes answer);

} // namespace vpnsteer::wandns::dns
