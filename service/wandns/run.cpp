// vpnsteer-wandns-run: the WAN DNS forwarder on its own, for tests and benchmarks. vpnsteerd
// hosts the same class; this program only parses options and runs an sd-event loop.
#include "service/wandns/forwarder.hpp"
#include "service/wandns/handles.hpp"

#include <cerrno>
#include <charconv>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <exception>
#include <fstream>
#include <string>
#include <string_view>
#include <sys/resource.h>
#include <system_error>
#include <tuple>
#include <vector>

namespace {

using namespace vpnsteer::wandns;

constexpr std::uint16_t dnsPort = 53;

void usage(std::FILE* to) {
    std::fprintf(
        to, "Usage: vpnsteer-wandns-run [OPTION]...\n"
            "Runs vpnsteerd's WAN DNS forwarder alone (for tests and benchmarks).\n"
            "  --listen ADDR          serve ADDR over UDP and TCP; repeatable\n"
            "                         (default 127.0.0.1:54 and [::1]:54)\n"
            "  --server ADDR          upstream IP[:PORT] (port 53 by default); repeatable\n"
            "  --servers-file FILE    upstreams, one per line; read again on SIGHUP\n"
            "  --mark N               SO_MARK of upstream sockets, decimal or 0x hex\n"
            "                         (default 10000; 0 leaves them unmarked)\n"
            "  --attempt-timeout MS   time per upstream before the next is asked (default 1000)\n"
            "  --timeout MS           time per query before SERVFAIL (default 4000)\n"
            "  --max-in-flight N      queries in flight at most (default 1024)\n"
            "  --max-tcp N            client TCP connections at most (default 64)\n"
            "  --tcp-idle MS          idle client TCP connections close after (default 10000)\n"
            "Prints 'listening on ADDR' per address, then 'ready'. SIGUSR1 prints the\n"
            "counters; SIGTERM and SIGINT print them and exit.\n");
}

struct Options {
    ForwarderSettings settings;
    std::vector<SocketAddress> servers;
    std::string serversFile;
};

std::uint64_t parseNumber(std::string_view option, std::string_view text) {
    int base = 10;
    if (text.starts_with("0x") || text.starts_with("0X")) {
        text.remove_prefix(2);
        base = 16;
    }
    std::uint64_t value = 0;
    const auto* end = text.data() + text.size();
    const auto [last, error] = std::from_chars(text.data(), end, value, base);
    if (text.empty() || error != std::errc() || last != end) {
        throw std::invalid_argument(std::string(option) + ": not a number: \"" + std::string(text) +
                                    "\"");
    }
    return value;
}

std::vector<SocketAddress> readServersFile(const std::string& path) {
    std::ifstream in(path);
    if (!in) {
        throw std::runtime_error("cannot read " + path);
    }
    std::vector<SocketAddress> servers;
    for (std::string line; std::getline(in, line);) {
        if (!line.empty() && line[0] != '#') {
            servers.push_back(SocketAddress::parse(line, dnsPort));
        }
    }
    return servers;
}

Options parseOptions(int argc, char** argv) {
    Options options;
    options.settings.mark = 10000;
    std::vector<SocketAddress> listen;
    for (int i = 1; i < argc; ++i) {
        const std::string_view option = argv[i];
        if (option == "--help" || option == "-h") {
            usage(stdout);
            std::exit(0);
        }
        if (i + 1 >= argc) {
            throw std::invalid_argument(std::string(option) + ": needs a value");
        }
        const std::string_view value = argv[++i];
        if (option == "--listen") {
            listen.push_back(SocketAddress::parse(value, 54));
        } else if (option == "--server") {
            options.servers.push_back(SocketAddress::parse(value, dnsPort));
        } else if (option == "--servers-file") {
            options.serversFile = value;
        } else if (option == "--mark") {
            const auto mark = parseNumber(option, value);
            if (mark > 0xffffffffu) {
                throw std::invalid_argument("--mark: must fit in 32 bits, got " +
                                            std::string(value));
            }
            options.settings.mark = static_cast<std::uint32_t>(mark);
        } else if (option == "--attempt-timeout") {
            options.settings.attemptTimeout = std::chrono::milliseconds(parseNumber(option, value));
        } else if (option == "--timeout") {
            options.settings.queryTimeout = std::chrono::milliseconds(parseNumber(option, value));
        } else if (option == "--max-in-flight") {
            options.settings.maxQueriesInFlight = parseNumber(option, value);
        } else if (option == "--max-tcp") {
            options.settings.maxTcpClients = parseNumber(option, value);
        } else if (option == "--tcp-idle") {
            options.settings.tcpIdleTimeout = std::chrono::milliseconds(parseNumber(option, value));
        } else {
            throw std::invalid_argument("unknown option \"" + std::string(option) + "\"");
        }
    }
    options.settings.listen =
        listen.empty() ? std::vector<SocketAddress>{SocketAddress::parse("127.0.0.1:54", 54),
                                                    SocketAddress::parse("[::1]:54", 54)}
                       : listen;
    if (!options.serversFile.empty()) {
        auto fromFile = readServersFile(options.serversFile);
        options.servers.insert(options.servers.end(), fromFile.begin(), fromFile.end());
    }
    return options;
}

void printCounters(const WanDnsForwarder& forwarder) {
    const auto c = forwarder.counters();
    std::printf(
        "counters queries=%llu answers=%llu servfails=%llu timeouts=%llu "
        "truncated_retries=%llu refused=%llu malformed_dropped=%llu "
        "mismatched_answers=%llu format_errors=%llu overloaded=%llu "
        "upstream_errors=%llu in_flight=%zu tcp_clients=%zu\n",
        static_cast<unsigned long long>(c.queries), static_cast<unsigned long long>(c.answers),
        static_cast<unsigned long long>(c.servfails), static_cast<unsigned long long>(c.timeouts),
        static_cast<unsigned long long>(c.truncatedRetries),
        static_cast<unsigned long long>(c.refused),
        static_cast<unsigned long long>(c.malformedDropped),
        static_cast<unsigned long long>(c.mismatchedAnswers),
        static_cast<unsigned long long>(c.formatErrors),
        static_cast<unsigned long long>(c.overloaded),
        static_cast<unsigned long long>(c.upstreamErrors), forwarder.queriesInFlight(),
        forwarder.tcpClients());
    std::fflush(stdout);
}

// Each query may hold a few sockets; the soft limit of 1024 is below what the default
// bounds can use. select(2) is not used, so the hard limit is safe to take.
void raiseFileLimit() {
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        ::setrlimit(RLIMIT_NOFILE, &limit);
    }
}

struct Context {
    WanDnsForwarder* forwarder;
    std::string serversFile;
};

} // namespace

int main(int argc, char** argv) {
    Options options;
    try {
        options = parseOptions(argc, argv);
    } catch (const std::exception& error) {
        std::fprintf(stderr, "vpnsteer-wandns-run: %s\n", error.what());
        usage(stderr);
        return 2;
    }
    raiseFileLimit();

    sd_event* rawEvent = nullptr;
    if (const int r = sd_event_new(&rawEvent); r < 0) {
        std::fprintf(stderr, "vpnsteer-wandns-run: creating the event loop: %s\n",
                     std::strerror(-r));
        return 1;
    }
    EventPtr event(rawEvent);
    sigset_t signals;
    sigemptyset(&signals);
    for (int signal : {SIGTERM, SIGINT, SIGUSR1, SIGHUP}) {
        sigaddset(&signals, signal);
    }
    sigprocmask(SIG_BLOCK, &signals, nullptr);

    try {
        WanDnsForwarder forwarder(event.get(), options.settings, options.servers);
        Context context{&forwarder, options.serversFile};
        const auto onStop = [](sd_event_source* s, const signalfd_siginfo*, void*) -> int {
            return sd_event_exit(sd_event_source_get_event(s), 0);
        };
        const auto onCounters = [](sd_event_source*, const signalfd_siginfo*, void* data) -> int {
            printCounters(*static_cast<Context*>(data)->forwarder);
            return 0;
        };
        const auto onReload = [](sd_event_source*, const signalfd_siginfo*, void* data) -> int {
            auto* context = static_cast<Context*>(data);
            if (context->serversFile.empty()) {
                return 0;
            }
            try {
                context->forwarder->setUpstreams(readServersFile(context->serversFile));
                std::printf("upstreams");
                for (const auto& server : context->forwarder->upstreams()) {
                    std::printf(" %s", server.toString().c_str());
                }
                std::printf("\n");
            } catch (const std::exception& error) {
                std::printf("reloading %s: %s, keeping the old upstreams\n",
                            context->serversFile.c_str(), error.what());
            }
            std::fflush(stdout);
            return 0;
        };
        // Owned here, not floating: a floating source holds a reference on the loop, which
        // would then never be freed.
        std::vector<EventSourcePtr> signalSources;
        for (const auto& [signal, handler, data] :
             {std::tuple{SIGTERM, +onStop, static_cast<void*>(nullptr)},
              std::tuple{SIGINT, +onStop, static_cast<void*>(nullptr)},
              std::tuple{SIGUSR1, +onCounters, static_cast<void*>(&context)},
              std::tuple{SIGHUP, +onReload, static_cast<void*>(&context)}}) {
            sd_event_source* source = nullptr;
            if (const int r = sd_event_add_signal(event.get(), &source, signal, handler, data);
                r < 0) {
                throw std::system_error(-r, std::generic_category(), "watching signals");
            }
            signalSources.emplace_back(source);
        }
        for (const auto& address : forwarder.listenAddresses()) {
            std::printf("listening on %s\n", address.toString().c_str());
        }
        std::printf("ready\n");
        std::fflush(stdout);
        const int r = sd_event_loop(event.get());
        printCounters(forwarder);
        if (r < 0) {
            std::fprintf(stderr, "vpnsteer-wandns-run: event loop: %s\n", std::strerror(-r));
            return 1;
        }
    } catch (const std::exception& error) {
        std::fprintf(stderr, "vpnsteer-wandns-run: %s\n", error.what());
        return 1;
    }
    return 0;
}
