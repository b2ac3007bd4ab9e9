#include "service/wireguard/dns_resolver.hpp"

#include "service/file_text.hpp"
#include "service/wireguard/dns_query.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <sys/socket.h>
#include <unistd.h>

namespace vpnsteer::wireguard {

namespace {

constexpr std::uint64_t serverTimeoutMicroseconds = 2'000'000;

std::optional<DnsServer> serverOf(const std::string& host, std::uint16_t port) {
    DnsServer server;
    server.text = host;
    auto* v4 = reinterpret_cast<sockaddr_in*>(&server.address);
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&server.address);
    if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(port);
        server.length = sizeof(sockaddr_in);
        return server;
    }
    if (inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(port);
        server.length = sizeof(sockaddr_in6);
        return server;
    }
    return std::nullopt;
}

bool isLoopback(const DnsServer& server) {
    if (server.address.ss_family == AF_INET) {
        const auto* v4 = reinterpret_cast<const sockaddr_in*>(&server.address);
        return (ntohl(v4->sin_addr.s_addr) >> 24) == 127;
    }
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&server.address);
    return IN6_IS_ADDR_LOOPBACK(&v6->sin6_addr);
}

} // namespace

std::vector<DnsServer> resolvConfServers(std::string_view text) {
    std::vector<DnsServer> servers;
    constexpr std::string_view blank = " \t\r\v\f";
    while (!text.empty()) {
        std::string_view line = text.substr(0, text.find('\n'));
        text.remove_prefix(std::min(text.size(), line.size() + 1));
        // The first two words of the line.
        std::string_view words[2];
        for (std::string_view& word : words) {
            line.remove_prefix(std::min(line.size(), line.find_first_not_of(blank)));
            word = line.substr(0, line.find_first_of(blank));
            line.remove_prefix(word.size());
        }
        if (words[0] == "nameserver" && !words[1].empty()) {
            // A scoped IPv6 address (fe80::1%eth0) is of no use without its link: skipped.
            if (auto server = serverOf(std::string(words[1]), 53); server && !isLoopback(*server)) {
                servers.push_back(*server);
            }
        }
    }
    return servers;
}

std::vector<DnsServer> specServers(const std::vector<Endpoint>& endpoints) {
    std::vector<DnsServer> servers;
    for (const Endpoint& endpoint : endpoints) {
        if (auto server = serverOf(endpoint.host, endpoint.port != 0 ? endpoint.port : 53)) {
            servers.push_back(*server);
        }
    }
    return servers;
}

std::vector<DnsServer> chooseServers(const WanSettings& wan, std::vector<DnsServer> uplink,
                                     std::string_view resolvConf) {
    if (std::vector<DnsServer> servers = specServers(wan.dnsServers); !servers.empty())
        return servers;
    if (!uplink.empty())
        return uplink;
    return resolvConfServers(resolvConf);
}

struct UplinkDnsResolver::Request {
    UplinkDnsResolver* owner = nullptr;
    std::uint32_t mark = 0;
    std::string host;
    Done done;
    std::vector<DnsServer> servers;
    std::size_t server = 0;
    int fd = -1;
    dbus::EventSourcePtr io;
    dbus::EventSourcePtr timer;
    std::uint16_t ids[2] = {};
    bool answered[2] = {};
    std::vector<ResolvedAddress> found[2]; // IPv4, IPv6
    std::string error;

    ~Request() {
        io.reset();
        if (fd >= 0) {
            ::close(fd);
        }
    }

    // Sends both questions to the current server; false (with `error`) when it cannot.
    bool ask() {
        io.reset();
        if (fd >= 0) {
            ::close(fd);
            fd = -1;
        }
        const DnsServer& target = servers[server];
        fd = ::socket(target.address.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0 || ::setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof mark) < 0 ||
            ::connect(fd, reinterpret_cast<const sockaddr*>(&target.address), target.length) < 0) {
            error = "asking " + target.text + " (WAN mark " + std::to_string(mark) +
                    "): " + std::strerror(errno);
            return false;
        }
        const std::uint16_t types[2] = {dnsTypeA, dnsTypeAaaa};
        for (int i = 0; i < 2; ++i) {
            answered[i] = false;
            found[i].clear();
            // Random ids make a spoofed answer from off the path unlikely (RFC 5452).
            ids[i] = static_cast<std::uint16_t>(arc4random_uniform(65536));
            auto query = encodeDnsQuery(ids[i], host, types[i]);
            if (!query) {
                error = "'" + host + "' is not a valid DNS name";
                return false;
            }
            if (::send(fd, query->data(), query->size(), 0) < 0) {
                error = "asking " + target.text + ": " + std::strerror(errno);
                return false;
            }
        }
        sd_event_source* source = nullptr;
        if (sd_event_add_io(owner->event_, &source, fd, EPOLLIN, &Request::onReadable, this) < 0) {
            error = "watching the DNS socket";
            return false;
        }
        io.reset(source);
        sd_event_source_set_time_relative(timer.get(), serverTimeoutMicroseconds);
        sd_event_source_set_enabled(timer.get(), SD_EVENT_ONESHOT);
        return true;
    }

    // Asks the next server, or finishes.
    void next() {
        while (++server < servers.size()) {
            if (ask()) {
                return;
            }
        }
        owner->finish(*this);
    }

    static int onReadable(sd_event_source*, int, uint32_t, void* self) {
        auto& request = *static_cast<Request*>(self);
        std::uint8_t buffer[1500];
        for (;;) {
            const ssize_t size = ::recv(request.fd, buffer, sizeof buffer, 0);
            if (size < 0) {
                if (errno != EAGAIN && errno != EINTR) {
                    request.error = "asking " + request.servers[request.server].text + ": " +
                                    std::strerror(errno);
                    request.next();
                }
                return 0;
            }
            const auto answer = parseDnsAnswer(buffer, static_cast<std::size_t>(size));
            for (int i = 0; answer && i < 2; ++i) {
                if (answer->id == request.ids[i] && !request.answered[i]) {
                    request.answered[i] = true;
                    for (const ResolvedAddress& address : answer->addresses) {
                        if (address.family == (i == 0 ? AF_INET : AF_INET6)) {
                            request.found[i].push_back(address);
                        }
                    }
                    if (answer->rcode != 0 && answer->rcode != 3) {
                        request.error = request.servers[request.server].text +
                                        " answered with DNS error code " +
                                        std::to_string(answer->rcode);
                    } else if (answer->rcode == 3) {
                        request.error = "no such name";
                    }
                }
            }
            if (request.answered[0] && request.answered[1]) {
                if (request.found[0].empty() && request.found[1].empty() && request.error.empty()) {
                    request.error = "the name has no A or AAAA record";
                }
                request.owner->finish(request);
                return 0;
            }
        }
    }

    static int onTimeout(sd_event_source*, uint64_t, void* self) {
        auto& request = *static_cast<Request*>(self);
        if (request.servers.empty()) {
            request.owner->finish(request);
            return 0;
        }
        if (request.answered[0] || request.answered[1]) {
            // One family answered: good enough (a server that drops AAAA questions).
            request.owner->finish(request);
            return 0;
        }
        request.error = "no answer from " + request.servers[request.server].text + " within 2 s";
        request.next();
        return 0;
    }
};

UplinkDnsResolver::UplinkDnsResolver(sd_event* event, std::string resolvConfPath)
    : event_(event)
    , resolvConfPath_(std::move(resolvConfPath)) {}

UplinkDnsResolver::~UplinkDnsResolver() = default;

void UplinkDnsResolver::resolve(const std::string& host, const WanSettings& wan, Done done) {
    auto request = std::make_unique<Request>();
    request->owner = this;
    request->mark = wan.mark;
    request->host = host;
    request->done = std::move(done);
    std::vector<DnsServer> uplink;
    std::string resolvConf;
    if (wan.dnsServers.empty()) {
        if (uplinkServers_)
            uplink = uplinkServers_();
        if (uplink.empty()) {
            resolvConf = readFileText(resolvConfPath_).value_or("");
        }
    }
    request->servers = chooseServers(wan, std::move(uplink), resolvConf);
    sd_event_source* source = nullptr;
    if (sd_event_add_time_relative(event_, &source, CLOCK_MONOTONIC, 0, 0, &Request::onTimeout,
                                   request.get()) < 0) {
        return; // cannot happen short of memory; the caller asks again on its next tick
    }
    request->timer.reset(source);
    Request& started = *request;
    requests_.push_back(std::move(request));
    if (started.servers.empty()) {
        // Finishes from the zero timer: never from within resolve().
        started.error = "no uplink DNS server: wan.dns.servers is empty, systemd-resolved "
                        "knows none for the uplink, and " +
                        resolvConfPath_ + " names no non-loopback nameserver";
        return;
    }
    started.server = 0;
    if (!started.ask()) {
        started.next();
    }
}

void UplinkDnsResolver::finish(Request& request) {
    ResolveResult result;
    for (const auto& family : request.found) {
        result.addresses.insert(result.addresses.end(), family.begin(), family.end());
    }
    if (result.addresses.empty()) {
        result.error = request.error.empty() ? "no address" : request.error;
    }
    Done done = std::move(request.done);
    for (auto it = requests_.begin(); it != requests_.end(); ++it) {
        if (it->get() == &request) {
            requests_.erase(it); // sd-event allows freeing a source in its own callback
            break;
        }
    }
    if (done) {
        done(std::move(result));
    }
}

} // namespace vpnsteer::wireguard
