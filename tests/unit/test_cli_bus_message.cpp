// The CLI's D-Bus wire format (cli/bus_message.hpp) and bus addresses (cli/system_bus.hpp):
// the bytes of a method call, and replies read back from bytes as the bus sends them.
#include "cli/bus_message.hpp"
#include "cli/daemon.hpp"
#include "cli/system_bus.hpp"

#include <cstdlib>
#include <filesystem>
#include <gtest/gtest.h>
#include <sdbus-c++/Error.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <thread>
#include <unistd.h>

namespace vpnsteer::cli {
namespace {

using namespace std::string_literals;

// Little-endian helpers to write expected messages by hand.
std::string u32(std::uint32_t value) {
    std::string bytes;
    for (int index = 0; index < 4; ++index)
        bytes.push_back(static_cast<char>((value >> (8 * index)) & 0xff));
    return bytes;
}
std::string pad(std::string bytes, std::size_t alignment) {
    bytes.resize((bytes.size() + alignment - 1) / alignment * alignment, '\0');
    return bytes;
}

TEST(BusMessage, MethodCallBytes) {
    const std::string bytes = encodeMethodCall({.destination = "org.vpnsteer1",
                                                .path = "/org/vpnsteer1",
                                                .interface = "org.vpnsteer1.Manager",
                                                .member = "Up",
                                                .arguments = {"us"}},
                                               7);
    std::string fields;
    fields = pad(fields + "\x01\x01o\0"s + u32(14) + "/org/vpnsteer1\0"s, 8);
    fields = pad(fields + "\x06\x01s\0"s + u32(13) + "org.vpnsteer1\0"s, 8);
    fields = pad(fields + "\x02\x01s\0"s + u32(21) + "org.vpnsteer1.Manager\0"s, 8);
    fields = pad(fields + "\x03\x01s\0"s + u32(2) + "Up\0"s, 8);
    fields += "\x08\x01g\0\x01s\0"s;
    const std::string body = u32(2) + "us\0"s;
    const std::string expected =
        pad("l\x01\x00\x01"s + u32(static_cast<std::uint32_t>(body.size())) + u32(7) +
                u32(static_cast<std::uint32_t>(fields.size())) + fields,
            8) +
        body;
    EXPECT_EQ(bytes, expected);
}

TEST(BusMessage, ReadsBackAMethodCall) {
    std::string buffer = encodeMethodCall({.destination = "d",
                                           .path = "/p",
                                           .interface = "i",
                                           .member = "Get",
                                           .arguments = {"a", "b"}},
                                          3);
    buffer += "rest";
    std::optional<BusMessage> message = takeMessage(buffer);
    ASSERT_TRUE(message);
    EXPECT_EQ(message->type, BusMessage::Type::methodCall);
    EXPECT_EQ(message->serial, 3u);
    EXPECT_EQ(message->path, "/p");
    EXPECT_EQ(message->member, "Get");
    EXPECT_EQ(message->body, (std::vector{BusValue::string("a"), BusValue::string("b")}));
    EXPECT_EQ(buffer, "rest");
}

// A reply as vpnsteerd sends ListVpns' answer: a(suob) with one row.
std::string listReply(std::uint32_t replySerial) {
    std::string fields = pad("\x05\x01u\0"s + u32(replySerial), 8) + "\x08\x01g\0\x07"
                                                                     "a(suob)\0"s;
    std::string rows = pad(u32(2) + "us\0"s, 4) + u32(1) + u32(21) + "/org/vpnsteer1/vpn/us\0"s;
    rows = pad(rows, 4) + u32(1);
    std::string body = u32(static_cast<std::uint32_t>(rows.size())) + "\0\0\0\0"s + rows;
    return pad("l\x02\x01\x01"s + u32(static_cast<std::uint32_t>(body.size())) + u32(9) +
                   u32(static_cast<std::uint32_t>(fields.size())) + fields,
               8) +
           body;
}

TEST(BusMessage, ReadsAnArrayOfStructs) {
    std::string buffer = listReply(2);
    std::optional<BusMessage> message = takeMessage(buffer);
    ASSERT_TRUE(message);
    EXPECT_EQ(message->type, BusMessage::Type::methodReturn);
    EXPECT_EQ(message->replySerial, 2u);
    ASSERT_EQ(message->body.size(), 1u);
    const BusValue& rows = message->body[0];
    EXPECT_EQ(rows.signature(), "a(suob)");
    ASSERT_EQ(rows.items().size(), 1u);
    const BusValue::Items& row = rows.items()[0].items();
    EXPECT_EQ(row[0].asString(), "us");
    EXPECT_EQ(row[1].asUint32(), 1u);
    EXPECT_EQ(row[2].asString(), "/org/vpnsteer1/vpn/us");
    EXPECT_TRUE(row[3].asBool());
    EXPECT_TRUE(buffer.empty());
}

TEST(BusMessage, WaitsForTheWholeMessage) {
    const std::string whole = listReply(2);
    for (std::size_t length : {std::size_t{0}, std::size_t{10}, whole.size() - 1}) {
        std::string buffer = whole.substr(0, length);
        EXPECT_FALSE(takeMessage(buffer)) << length;
        EXPECT_EQ(buffer.size(), length);
    }
}

TEST(BusMessage, ReadsAnErrorWithItsName) {
    const std::string name = "org.vpnsteer1.Error.UnknownVpn";
    const std::string body = u32(4) + "mars\0"s; // only its length matters below
    // Big-endian this time: a message comes in its sender's byte order.
    auto be32 = [](std::uint32_t value) {
        std::string bytes = u32(value);
        return std::string(bytes.rbegin(), bytes.rend());
    };
    std::string fields =
        pad("\x04\x01s\0"s + be32(static_cast<std::uint32_t>(name.size())) + name + '\0', 8);
    fields = pad(fields + "\x05\x01u\0"s + be32(2), 8) + "\x08\x01g\0\x01s\0"s;
    std::string buffer = pad("B\x03\x01\x01"s + be32(static_cast<std::uint32_t>(body.size())) +
                                 be32(5) + be32(static_cast<std::uint32_t>(fields.size())) + fields,
                             8) +
                         be32(4) + "mars\0"s;
    std::optional<BusMessage> message = takeMessage(buffer);
    ASSERT_TRUE(message);
    EXPECT_EQ(message->type, BusMessage::Type::error);
    EXPECT_EQ(message->errorName, name);
    EXPECT_EQ(message->replySerial, 2u);
    EXPECT_EQ(message->body, std::vector{BusValue::string("mars")});
}

TEST(BusMessage, RefusesGarbage) {
    std::string buffer = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    EXPECT_THROW(takeMessage(buffer), std::runtime_error);
}

TEST(BusValue, TypedReadsCheckTheType) {
    EXPECT_EQ(BusValue::variant(BusValue::string("x")).items()[0].as<std::string>(), "x");
    EXPECT_EQ(BusValue::strings({"a", "b"}).as<std::vector<std::string>>(),
              (std::vector<std::string>{"a", "b"}));
    EXPECT_THROW(BusValue::string("1").asUint32(), sdbus::Error);
    EXPECT_THROW(BusValue::uint32(1).asBool(), sdbus::Error);
    EXPECT_THROW(BusValue::uint32(1).items(), sdbus::Error);
}

TEST(SystemBusAddress, UnixPaths) {
    EXPECT_EQ(unixSocketPathOf("unix:path=/run/dbus/system_bus_socket"),
              "/run/dbus/system_bus_socket");
    EXPECT_EQ(unixSocketPathOf("tcp:host=x,port=1;unix:guid=00,path=/tmp/a%20b"), "/tmp/a b");
    EXPECT_EQ(unixSocketPathOf("unix:abstract=bus"), "\0bus"s);
    EXPECT_EQ(unixSocketPathOf("tcp:host=localhost,port=1"), "");
}

// A bus that answers one connection with canned bytes, on a socket in a folder of its own;
// DBUS_SYSTEM_BUS_ADDRESS points SystemBus at it for the test's duration.
class CannedBus {
public:
    explicit CannedBus(std::function<std::string(const std::string& received)> answer)
        : folder_(std::filesystem::temp_directory_path() /
                  ("vpnsteer-test-bus." + std::to_string(getpid()))) {
        std::filesystem::create_directories(folder_);
        const std::string path = (folder_ / "bus").string();
        listener_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_un where{};
        where.sun_family = AF_UNIX;
        path.copy(where.sun_path, sizeof where.sun_path - 1);
        EXPECT_EQ(::bind(listener_, reinterpret_cast<sockaddr*>(&where), sizeof where), 0);
        EXPECT_EQ(::listen(listener_, 1), 0);
        setenv("DBUS_SYSTEM_BUS_ADDRESS", ("unix:path=" + path).c_str(), 1);
        server_ = std::thread([this, answer] {
            const int client = ::accept(listener_, nullptr, nullptr);
            std::string bytes;
            char buffer[4096];
            // Everything the client sends before it waits: auth, BEGIN, Hello and the call.
            while (bytes.find("BEGIN\r\n") == std::string::npos || !hasTwoMessages(bytes)) {
                const ssize_t got = ::recv(client, buffer, sizeof buffer, 0);
                if (got <= 0)
                    break;
                bytes.append(buffer, static_cast<std::size_t>(got));
            }
            received_ = bytes;
            const std::string reply = answer(bytes);
            ::send(client, reply.data(), reply.size(), MSG_NOSIGNAL);
            ::close(client);
        });
    }
    ~CannedBus() {
        if (server_.joinable())
            server_.join();
        ::close(listener_);
        unsetenv("DBUS_SYSTEM_BUS_ADDRESS");
        std::filesystem::remove_all(folder_);
    }

    // What the client sent (after the server has answered and gone).
    std::string sent() {
        server_.join();
        return received_;
    }

private:
    static bool hasTwoMessages(std::string bytes) {
        bytes.erase(0, bytes.find("BEGIN\r\n") + 7);
        try {
            return takeMessage(bytes) && takeMessage(bytes);
        } catch (const std::exception&) {
            return false;
        }
    }

    std::filesystem::path folder_;
    std::string received_;
    int listener_ = -1;
    std::thread server_;
};

std::string reply(char type, std::uint32_t replySerial, const std::string& errorName,
                  const std::string& text) {
    std::string fields;
    if (!errorName.empty())
        fields = pad(fields + "\x04\x01s\0"s + u32(static_cast<std::uint32_t>(errorName.size())) +
                         errorName + '\0',
                     8);
    fields = pad(fields + "\x05\x01u\0"s + u32(replySerial), 8) + "\x08\x01g\0\x01s\0"s;
    const std::string body = u32(static_cast<std::uint32_t>(text.size())) + text + '\0';
    return pad("l"s + type + "\x01\x01"s + u32(static_cast<std::uint32_t>(body.size())) +
                   u32(replySerial + 100) + u32(static_cast<std::uint32_t>(fields.size())) + fields,
               8) +
           body;
}

TEST(SystemBus, OneWriteOneAnswerAndTheErrorsName) {
    CannedBus bus([](const std::string&) {
        return "DATA\r\nOK 0123456789abcdef0123456789abcdef\r\n"s + reply('\x02', 1, "", ":1.7") +
               reply('\x03', 2, "org.vpnsteer1.Error.UnknownVpn", "no VPN named 'mars'");
    });
    SystemBus connection;
    try {
        connection.call({.destination = "org.vpnsteer1",
                         .path = "/org/vpnsteer1",
                         .interface = "org.vpnsteer1.Manager",
                         .member = "Up",
                         .arguments = {"mars"}});
        ADD_FAILURE() << "the error reply did not throw";
    } catch (const sdbus::Error& error) {
        EXPECT_EQ(error.getName(), "org.vpnsteer1.Error.UnknownVpn");
        EXPECT_EQ(error.getMessage(), "no VPN named 'mars'");
    }
    // The credentials come from the socket (empty EXTERNAL identity), Hello then the call.
    std::string sent = bus.sent();
    EXPECT_TRUE(sent.starts_with("\0AUTH EXTERNAL\r\nDATA\r\nBEGIN\r\n"s));
    sent.erase(0, sent.find("BEGIN\r\n") + 7);
    EXPECT_EQ(takeMessage(sent)->member, "Hello");
    std::optional<BusMessage> call = takeMessage(sent);
    EXPECT_EQ(call->member, "Up");
    EXPECT_EQ(call->serial, 2u);
    EXPECT_EQ(call->body, std::vector{BusValue::string("mars")});
}

TEST(SystemBus, ABusThatHangsUpIsDisconnected) {
    CannedBus bus([](const std::string&) { return "DATA\r\nOK 0123\r\n"s; });
    SystemBus connection;
    try {
        connection.call({.destination = "d", .path = "/", .interface = "i", .member = "M"});
        ADD_FAILURE() << "a closed connection did not throw";
    } catch (const sdbus::Error& error) {
        EXPECT_EQ(error.getName(), "org.freedesktop.DBus.Error.Disconnected");
    }
}

TEST(SystemBus, NobodyListeningIsBusUnavailable) {
    setenv("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/nonexistent/vpnsteer-test-bus", 1);
    EXPECT_THROW(SystemBus(), BusUnavailable);
    unsetenv("DBUS_SYSTEM_BUS_ADDRESS");
}

} // namespace
} // namespace vpnsteer::cli
