#include "service/wandns/dns_message.hpp"

#include <algorithm>

namespace vpnsteer::wandns::dns {

namespace {

constexpr std::uint16_t optType = 41;       // RFC 6891 §6.1.1
constexpr std::size_t maxNameLength = 255;  // RFC 1035 §3.1, wire form
constexpr std::size_t recordFixedSize = 10; // type, class, TTL, RDLENGTH

std::uint16_t read16(Bytes bytes, std::size_t offset) {
    return static_cast<std::uint16_t>(bytes[offset] << 8 | bytes[offset + 1]);
}

void write16(std::span<std::uint8_t> bytes, std::size_t offset, std::uint16_t value) {
    bytes[offset] = static_cast<std::uint8_t>(value >> 8);
    bytes[offset + 1] = static_cast<std::uint8_t>(value);
}

// Length of the uncompressed wire name at `offset`, or nothing if it is cut short, too
// long, or uses a compression pointer or an extended label type (RFC 6891 §5).
std::optional<std::size_t> uncompressedNameLength(Bytes message, std::size_t offset) {
    std::size_t position = offset;
    while (position < message.size()) {
        const std::uint8_t label = message[position];
        if (label == 0) {
            return position + 1 - offset;
        }
        if ((label & 0xc0) != 0) {
            return std::nullopt;
        }
        position += 1 + label;
        if (position - offset >= maxNameLength) {
            return std::nullopt;
        }
    }
    return std::nullopt;
}

// The offset after a possibly compressed name in a record. Pointers are not followed:
// only the name's extent in this place matters.
std::optional<std::size_t> skipName(Bytes message, std::size_t offset) {
    std::size_t position = offset;
    while (position < message.size()) {
        const std::uint8_t label = message[position];
        if (label == 0) {
            return position + 1;
        }
        if ((label & 0xc0) == 0xc0) {
            if (position + 2 > message.size()) {
                return std::nullopt;
            }
            return position + 2;
        }
        if ((label & 0xc0) != 0) {
            return std::nullopt;
        }
        position += 1 + label;
    }
    return std::nullopt;
}

std::uint8_t foldCase(std::uint8_t c) {
    // Label length bytes are at most 63, below 'A', so folding every byte is safe.
    return c >= 'A' && c <= 'Z' ? static_cast<std::uint8_t>(c - 'A' + 'a') : c;
}

} // namespace

std::optional<Header> readHeader(Bytes message) {
    if (message.size() < headerSize) {
        return std::nullopt;
    }
    return Header{read16(message, 0), read16(message, 2), read16(message, 4),
                  read16(message, 6), read16(message, 8), read16(message, 10)};
}

std::optional<Question> readQuestion(Bytes message) {
    const auto header = readHeader(message);
    if (!header || header->questionCount != 1) {
        return std::nullopt;
    }
    const auto nameLength = uncompressedNameLength(message, headerSize);
    if (!nameLength || headerSize + *nameLength + 4 > message.size()) {
        return std::nullopt;
    }
    const std::size_t typeOffset = headerSize + *nameLength;
    return Question{headerSize, *nameLength, read16(message, typeOffset),
                    read16(message, typeOffset + 2)};
}

bool sameQuestion(Bytes a, const Question& questionA, Bytes b, const Question& questionB) {
    if (questionA.type != questionB.type || questionA.qclass != questionB.qclass ||
        questionA.nameLength != questionB.nameLength ||
        questionA.nameOffset + questionA.nameLength > a.size() ||
        questionB.nameOffset + questionB.nameLength > b.size()) {
        return false;
    }
    const auto nameA = a.subspan(questionA.nameOffset, questionA.nameLength);
    const auto nameB = b.subspan(questionB.nameOffset, questionB.nameLength);
    return std::equal(nameA.begin(), nameA.end(), nameB.begin(),
                      [](std::uint8_t x, std::uint8_t y) { return foldCase(x) == foldCase(y); });
}

std::uint16_t udpPayloadLimit(Bytes message, const Question& question) {
    const auto header = readHeader(message);
    if (!header) {
        return classicUdpPayload;
    }
    const std::size_t beforeAdditional = std::size_t{header->answerCount} + header->authorityCount;
    const std::size_t records = beforeAdditional + header->additionalCount;
    std::size_t offset = question.end();
    for (std::size_t index = 0; index < records; ++index) {
        const auto afterName = skipName(message, offset);
        if (!afterName || *afterName + recordFixedSize > message.size()) {
            return classicUdpPayload;
        }
        const std::uint16_t type = read16(message, *afterName);
        const std::uint16_t payload = read16(message, *afterName + 2);
        const std::uint16_t dataLength = read16(message, *afterName + 8);
        offset = *afterName + recordFixedSize + dataLength;
        if (offset > message.size()) {
            return classicUdpPayload; // a record cut short is trusted no more than none
        }
        if (index >= beforeAdditional && type == optType) {
            return std::max(payload, classicUdpPayload);
        }
    }
    return classicUdpPayload;
}

QueryInspection inspectQuery(Bytes message) {
    QueryInspection result;
    const auto header = readHeader(message);
    if (!header || header->isResponse()) {
        return result;
    }
    result.header = *header;
    if (header->opcode() != 0) {
        result.verdict = QueryVerdict::notImplemented;
        return result;
    }
    const auto question = readQuestion(message);
    if (!question) {
        result.verdict = QueryVerdict::formatError;
        return result;
    }
    result.verdict = QueryVerdict::forward;
    result.question = *question;
    result.udpLimit = udpPayloadLimit(message, *question);
    return result;
}

AnswerVerdict inspectAnswer(Bytes answer, std::uint16_t sentId, Bytes query,
                            const Question& queryQuestion) {
    const auto header = readHeader(answer);
    if (!header || !header->isResponse()) {
        return AnswerVerdict::malformed;
    }
    if (header->id != sentId) {
        return AnswerVerdict::wrongId;
    }
    if (header->questionCount != 1) {
        return AnswerVerdict::wrongQuestion;
    }
    const auto question = readQuestion(answer);
    if (!question) {
        return AnswerVerdict::malformed;
    }
    return sameQuestion(answer, *question, query, queryQuestion) ? AnswerVerdict::accept
                                                                 : AnswerVerdict::wrongQuestion;
}

void setId(std::span<std::uint8_t> message, std::uint16_t id) {
    if (message.size() >= 2) {
        write16(message, 0, id);
    }
}

std::vector<std::uint8_t> errorResponse(Bytes query, Rcode rcode) {
    std::vector<std::uint8_t> response(headerSize, 0);
    const auto header = readHeader(query);
    if (!header) {
        return response;
    }
    constexpr std::uint16_t checkingDisabled = 0x0010;
    const std::uint16_t kept =
        header->flags & (flags::opcodeMask | flags::recursionDesired | checkingDisabled);
    write16(response, 0, header->id);
    write16(response, 2,
            kept | flags::response | flags::recursionAvailable | static_cast<std::uint16_t>(rcode));
    if (const auto question = readQuestion(query)) {
        write16(response, 4, 1);
        response.insert(response.end(), query.begin() + static_cast<std::ptrdiff_t>(headerSize),
                        query.begin() + static_cast<std::ptrdiff_t>(question->end()));
    }
    return response;
}

std::vector<std::uint8_t> truncatedResponse(Bytes answer) {
    std::vector<std::uint8_t> response(headerSize, 0);
    const auto header = readHeader(answer);
    if (!header) {
        return response;
    }
    write16(response, 0, header->id);
    write16(response, 2, header->flags | flags::truncated);
    if (const auto question = readQuestion(answer)) {
        write16(response, 4, 1);
        response.insert(response.end(), answer.begin() + static_cast<std::ptrdiff_t>(headerSize),
                        answer.begin() + static_cast<std::ptrdiff_t>(question->end()));
    }
    return response;
}

} // namespace vpnsteer::wandns::dns
