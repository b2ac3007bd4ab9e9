// The D-Bus wire format, as far as the CLI needs it: method calls whose arguments are strings,
// and any message the bus or vpnsteerd sends back, with a body of any type. Pure: bytes in,
// values out (the D-Bus specification, "Message Protocol").
//
// Why the CLI does not use sd-bus or sdbus-c++: `vpnsteer up` is a whole process per call
// (vpn-NAME.service's ExecStart=, scripts), and loading libsystemd with its five compression
// and crypto libraries cost more than the call itself (bench/toggle). The CLI's needs are
// small: one kind of message out, and replies read into values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace vpnsteer::cli {

// One value of a message body, with its D-Bus type ("s", "u", "a{sv}", "(suob)", "v"...).
// Arrays, structs, dict entries and variants hold their parts in items(): a variant holds one,
// a dict entry two. The typed reads throw sdbus::Error (org.freedesktop.DBus.Error.
// InvalidSignature) when the value has another type, as a proxy would.
class BusValue {
public:
    using Items = std::vector<BusValue>;
    using Data = std::variant<std::uint64_t, std::int64_t, double, std::string, Items>;

    BusValue(std::string signature, Data data);
    static BusValue string(std::string text);
    static BusValue uint32(std::uint32_t number);
    static BusValue uint64(std::uint64_t number);
    static BusValue boolean(bool value);
    static BusValue strings(const std::vector<std::string>& texts);
    static BusValue variant(BusValue inner);

    const std::string& signature() const { return signature_; }
    const std::string& asString() const; // s, o, g
    std::uint32_t asUint32() const;
    std::uint64_t asUint64() const;
    bool asBool() const;
    std::vector<std::string> asStrings() const; // as
    const Items& items() const;                 // a, (...), {..}, v
    // The typed read for Value: std::string, std::uint32_t, std::uint64_t, bool or
    // std::vector<std::string>.
    template <typename Value>
    Value as() const;

    bool operator==(const BusValue&) const = default;

private:
    void expect(std::string_view signature) const;

    std::string signature_;
    Data data_;
};

template <>
std::string BusValue::as<std::string>() const;
template <>
std::uint32_t BusValue::as<std::uint32_t>() const;
template <>
std::uint64_t BusValue::as<std::uint64_t>() const;
template <>
bool BusValue::as<bool>() const;
template <>
std::vector<std::string> BusValue::as<std::vector<std::string>>() const;

// A method call with string arguments only (all of the calls the CLI makes).
struct MethodCall {
    std::string destination;
    std::string path;
    std::string interface;
    std::string member;
    std::vector<std::string> arguments{};
};

// The bytes of `call` with serial number `serial` (little-endian, no flags).
std::string encodeMethodCall(const MethodCall& call, std::uint32_t serial);

// A message read from the bus.
struct BusMessage {
    enum class Type : std::uint8_t { methodCall = 1, methodReturn = 2, error = 3, signal = 4 };
    Type type = Type::signal;
    std::uint32_t serial = 0;
    std::optional<std::uint32_t> replySerial{};
    std::string errorName{}; // for errors
    std::string path{};
    std::string member{};
    std::vector<BusValue> body{};
};

// Takes the first whole message off the front of `buffer`, or returns nothing (and leaves the
// buffer alone) while it is incomplete. Throws std::runtime_error for bytes that are no
// D-Bus message.
std::optional<BusMessage> takeMessage(std::string& buffer);

} // namespace vpnsteer::cli
