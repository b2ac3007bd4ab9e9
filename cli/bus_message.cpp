#include "cli/bus_message.hpp"

#include <bit>
#include <cstring>
#include <sdbus-c++/Error.h>
#include <stdexcept>

namespace vpnsteer::cli {

namespace {

// The specification's limits: a message is at most 128 MiB, types nest at most 64 deep.
constexpr std::size_t maximumMessage = 128u << 20;
constexpr int maximumDepth = 64;
constexpr std::size_t fixedHeader = 16; // up to and including the header fields' length

enum HeaderField : std::uint8_t {
    pathField = 1,
    interfaceField = 2,
    memberField = 3,
    errorNameField = 4,
    replySerialField = 5,
    destinationField = 6,
    signatureField = 8,
};

std::size_t roundUp(std::size_t offset, std::size_t alignment) {
    return (offset + alignment - 1) / alignment * alignment;
}

std::size_t alignmentOf(char type) {
    switch (type) {
    case 'y':
    case 'g':
    case 'v':
        return 1;
    case 'n':
    case 'q':
        return 2;
    case 'x':
    case 't':
    case 'd':
    case '(':
    case '{':
        return 8;
    default: // b i u h s o a
        return 4;
    }
}

[[noreturn]] void malformed(const std::string& what) {
    throw std::runtime_error("malformed D-Bus message from the bus: " + what);
}

// The length of the one complete type at the start of `signature`.
std::size_t completeTypeLength(std::string_view signature) {
    if (signature.empty())
        malformed("a signature ends early");
    if (signature[0] == 'a')
        return 1 + completeTypeLength(signature.substr(1));
    if (signature[0] != '(' && signature[0] != '{')
        return 1;
    int depth = 0;
    for (std::size_t index = 0; index < signature.size(); ++index) {
        if (signature[index] == '(' || signature[index] == '{')
            ++depth;
        else if ((signature[index] == ')' || signature[index] == '}') && --depth == 0)
            return index + 1;
    }
    malformed("unbalanced signature '" + std::string(signature) + "'");
}

// Reads values from `data`, whose first byte is 8-aligned in its message (the header, or the
// body), so offsets in it align as they do in the message.
class Reader {
public:
    Reader(std::string_view data, bool littleEndian)
        : data_(data)
        , littleEndian_(littleEndian) {}

    std::size_t position() const { return position_; }
    void seek(std::size_t position) { position_ = position; }
    bool atEnd() const { return position_ >= data_.size(); }

    void align(std::size_t alignment) {
        position_ = roundUp(position_, alignment);
        if (position_ > data_.size())
            malformed("padding past the end");
    }

    std::uint64_t unsignedNumber(std::size_t bytes) {
        align(bytes);
        if (data_.size() - position_ < bytes)
            malformed("a number past the end");
        std::uint64_t value = 0;
        for (std::size_t index = 0; index < bytes; ++index) {
            const auto byte = static_cast<std::uint8_t>(data_[position_ + index]);
            const std::size_t shift = littleEndian_ ? index : bytes - 1 - index;
            value |= static_cast<std::uint64_t>(byte) << (8 * shift);
        }
        position_ += bytes;
        return value;
    }

    std::string text(std::size_t lengthBytes) {
        const std::size_t length = unsignedNumber(lengthBytes);
        if (data_.size() - position_ < length + 1 || data_[position_ + length] != '\0')
            malformed("a string past the end");
        std::string value(data_.substr(position_, length));
        position_ += length + 1;
        return value;
    }

    BusValue value(std::string_view type, int depth = 0) {
        if (depth > maximumDepth)
            malformed("types nested too deep");
        const std::string signature(type);
        switch (type[0]) {
        case 'y':
            return {signature, unsignedNumber(1)};
        case 'b':
        case 'q':
        case 'u':
        case 'h':
        case 't':
            return {signature, unsignedNumber(type[0] == 't' ? 8 : type[0] == 'q' ? 2 : 4)};
        case 'n':
            return {signature, std::int64_t{static_cast<std::int16_t>(unsignedNumber(2))}};
        case 'i':
            return {signature, std::int64_t{static_cast<std::int32_t>(unsignedNumber(4))}};
        case 'x':
            return {signature, static_cast<std::int64_t>(unsignedNumber(8))};
        case 'd':
            return {signature, std::bit_cast<double>(unsignedNumber(8))};
        case 's':
        case 'o':
            return {signature, text(4)};
        case 'g':
            return {signature, text(1)};
        case 'v': {
            const std::string inner = text(1);
            if (inner.empty() || completeTypeLength(inner) != inner.size())
                malformed("a variant of type '" + inner + "'");
            return {signature, BusValue::Items{value(inner, depth + 1)}};
        }
        case 'a': {
            const std::size_t length = unsignedNumber(4);
            const std::string_view element = type.substr(1);
            align(alignmentOf(element[0]));
            const std::size_t end = position_ + length;
            if (end > data_.size())
                malformed("an array past the end");
            BusValue::Items items;
            while (position_ < end)
                items.push_back(value(element, depth + 1));
            return {signature, std::move(items)};
        }
        case '(':
        case '{': {
            align(8);
            BusValue::Items items;
            std::string_view members = type.substr(1, type.size() - 2);
            while (!members.empty()) {
                const std::size_t length = completeTypeLength(members);
                items.push_back(value(members.substr(0, length), depth + 1));
                members.remove_prefix(length);
            }
            return {signature, std::move(items)};
        }
        default:
            malformed("unknown type '" + signature + "'");
        }
    }

private:
    std::string_view data_;
    bool littleEndian_;
    std::size_t position_ = 0;
};

// Writes little-endian values into a message being built from its first byte.
class Writer {
public:
    std::string& bytes() { return bytes_; }

    void align(std::size_t alignment) { bytes_.resize(roundUp(bytes_.size(), alignment), '\0'); }

    void number(std::uint64_t value, std::size_t size) {
        align(size);
        for (std::size_t index = 0; index < size; ++index)
            bytes_.push_back(static_cast<char>((value >> (8 * index)) & 0xff));
    }

    void text(std::string_view value, std::size_t lengthBytes) {
        number(value.size(), lengthBytes);
        bytes_.append(value);
        bytes_.push_back('\0');
    }

    // One header field: (code, variant of type `type`).
    void field(std::uint8_t code, char type, std::string_view value) {
        align(8);
        number(code, 1);
        text(std::string_view(&type, 1), 1);
        text(value, type == 'g' ? 1 : 4);
    }

private:
    std::string bytes_;
};

} // namespace

BusValue::BusValue(std::string signature, Data data)
    : signature_(std::move(signature))
    , data_(std::move(data)) {}

BusValue BusValue::string(std::string text) {
    return {"s", std::move(text)};
}
BusValue BusValue::uint32(std::uint32_t number) {
    return {"u", std::uint64_t{number}};
}
BusValue BusValue::uint64(std::uint64_t number) {
    return {"t", number};
}
BusValue BusValue::boolean(bool value) {
    return {"b", std::uint64_t{value ? 1u : 0u}};
}
BusValue BusValue::strings(const std::vector<std::string>& texts) {
    Items items;
    for (const std::string& text : texts)
        items.push_back(string(text));
    return {"as", std::move(items)};
}
BusValue BusValue::variant(BusValue inner) {
    return {"v", Items{std::move(inner)}};
}

void BusValue::expect(std::string_view signature) const {
    if (signature_ != signature) {
        throw sdbus::Error("org.freedesktop.DBus.Error.InvalidSignature",
                           "expected a value of type '" + std::string(signature) + "', got '" +
                               signature_ + "'");
    }
}

const std::string& BusValue::asString() const {
    if (signature_ != "o" && signature_ != "g")
        expect("s");
    return std::get<std::string>(data_);
}
std::uint32_t BusValue::asUint32() const {
    expect("u");
    return static_cast<std::uint32_t>(std::get<std::uint64_t>(data_));
}
std::uint64_t BusValue::asUint64() const {
    expect("t");
    return std::get<std::uint64_t>(data_);
}
bool BusValue::asBool() const {
    expect("b");
    return std::get<std::uint64_t>(data_) != 0;
}
std::vector<std::string> BusValue::asStrings() const {
    expect("as");
    std::vector<std::string> texts;
    for (const BusValue& item : std::get<Items>(data_))
        texts.push_back(item.asString());
    return texts;
}
const BusValue::Items& BusValue::items() const {
    if (!std::holds_alternative<Items>(data_))
        expect("a container");
    return std::get<Items>(data_);
}

template <>
std::string BusValue::as<std::string>() const {
    return asString();
}
template <>
std::uint32_t BusValue::as<std::uint32_t>() const {
    return asUint32();
}
template <>
std::uint64_t BusValue::as<std::uint64_t>() const {
    return asUint64();
}
template <>
bool BusValue::as<bool>() const {
    return asBool();
}
template <>
std::vector<std::string> BusValue::as<std::vector<std::string>>() const {
    return asStrings();
}

std::string encodeMethodCall(const MethodCall& call, std::uint32_t serial) {
    Writer body;
    std::string signature;
    for (const std::string& argument : call.arguments) {
        body.text(argument, 4);
        signature += 's';
    }
    Writer message;
    message.number('l', 1);
    message.number(static_cast<std::uint8_t>(BusMessage::Type::methodCall), 1);
    message.number(0, 1); // flags: a reply is wanted, activation allowed
    message.number(1, 1); // protocol version
    message.number(body.bytes().size(), 4);
    message.number(serial, 4);
    message.number(0, 4); // the fields' length, filled in below
    message.field(pathField, 'o', call.path);
    if (!call.destination.empty())
        message.field(destinationField, 's', call.destination);
    if (!call.interface.empty())
        message.field(interfaceField, 's', call.interface);
    message.field(memberField, 's', call.member);
    if (!signature.empty())
        message.field(signatureField, 'g', signature);
    const std::size_t fieldsLength = message.bytes().size() - fixedHeader;
    for (std::size_t index = 0; index < 4; ++index)
        message.bytes()[12 + index] = static_cast<char>((fieldsLength >> (8 * index)) & 0xff);
    message.align(8);
    message.bytes().append(body.bytes());
    return message.bytes();
}

std::optional<BusMessage> takeMessage(std::string& buffer) {
    if (buffer.size() < fixedHeader)
        return std::nullopt;
    if (buffer[0] != 'l' && buffer[0] != 'B')
        malformed("unknown byte order");
    Reader fixed(std::string_view(buffer).substr(0, fixedHeader), buffer[0] == 'l');
    fixed.seek(4);
    const std::size_t bodyLength = fixed.unsignedNumber(4);
    const auto serial = static_cast<std::uint32_t>(fixed.unsignedNumber(4));
    const std::size_t fieldsLength = fixed.unsignedNumber(4);
    if (bodyLength > maximumMessage || fieldsLength > maximumMessage)
        malformed("a message larger than 128 MiB");
    const std::size_t headerLength = roundUp(fixedHeader + fieldsLength, 8);
    if (buffer.size() < headerLength + bodyLength)
        return std::nullopt;

    BusMessage message;
    message.type = static_cast<BusMessage::Type>(buffer[1]);
    message.serial = serial;
    std::string signature;
    Reader header(std::string_view(buffer).substr(0, fixedHeader + fieldsLength), buffer[0] == 'l');
    header.seek(fixedHeader);
    while (!header.atEnd()) {
        header.align(8);
        const auto code = static_cast<std::uint8_t>(header.unsignedNumber(1));
        const BusValue field = header.value("v").items().front();
        switch (code) {
        case pathField:
            message.path = field.asString();
            break;
        case memberField:
            message.member = field.asString();
            break;
        case errorNameField:
            message.errorName = field.asString();
            break;
        case replySerialField:
            message.replySerial = field.asUint32();
            break;
        case signatureField:
            signature = field.asString();
            break;
        default:
            break; // interface, destination, sender, fds: nothing the CLI reads
        }
    }
    Reader body(std::string_view(buffer).substr(headerLength, bodyLength), buffer[0] == 'l');
    for (std::string_view rest = signature; !rest.empty();) {
        const std::size_t length = completeTypeLength(rest);
        message.body.push_back(body.value(rest.substr(0, length)));
        rest.remove_prefix(length);
    }
    buffer.erase(0, headerLength + bodyLength);
    return message;
}

} // namespace vpnsteer::cli
