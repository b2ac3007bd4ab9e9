// vpnsteer-generator: a systemd generator (systemd.generator(7)) that turns the vpnsteer
// spec into systemd-networkd files and vpn-NAME.service units.
//
// It follows the generator contract: one or three output folders as arguments, no IPC,
// never blocking, messages to the kernel log when systemd runs it. A bad VPN is reported
// and skipped; the exit status is non-zero only after everything valid is written.
#include "core/spec.hpp"
#include "generator/files.hpp"
#include "generator/plan.hpp"
#include "generator/render.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <getopt.h>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <sys/stat.h>
#include <system_error>
#include <unistd.h>

namespace {

using namespace vpnsteer;
using namespace vpnsteer::generator;

constexpr int exitOk = 0;
constexpr int exitFailure = 1;
constexpr int exitUsage = 2;

// Generators run early, possibly before the journal is up. When systemd runs the
// generator (it sets SYSTEMD_SCOPE for generators since systemd 251), messages go to the
// kernel log, as those of systemd's own generators do; journald picks them up from there.
class Log {
public:
    Log()
        : kernelLog_(std::getenv("SYSTEMD_SCOPE")
                         ? ::open("/dev/kmsg", O_WRONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)
                         : -1) {}
    Log(const Log&) = delete;
    Log& operator=(const Log&) = delete;
    ~Log() {
        if (kernelLog_ >= 0)
            ::close(kernelLog_);
    }

    void error(std::string_view message) {
        // One message is one line: a control character (say, from a path given on the
        // command line) must not start a forged one.
        std::string line = "vpnsteer-generator: ";
        for (char c : message)
            line += static_cast<unsigned char>(c) < 0x20 ? '?' : c;
        line += '\n';
        // "<3>" is the kernel log's priority prefix for errors (syslog LOG_ERR).
        if (kernelLog_ >= 0 && ::write(kernelLog_, ("<3>" + line).data(), line.size() + 3) >= 0)
            return;
        std::fputs(line.c_str(), stderr);
    }

private:
    int kernelLog_;
};

struct Arguments {
    std::string specPath = VPNSTEER_SPEC_PATH;
    std::string networkDir = VPNSTEER_NETWORK_DIR;
    std::string cliPath = VPNSTEER_CLI_PATH;
    std::string fastdPath = VPNSTEER_FASTD_PATH;
    std::string fastdDir = VPNSTEER_FASTD_DIR;
    std::string stateDir = VPNSTEER_STATE_DIR;
    std::string packetmarkPath = VPNSTEER_PACKETMARK_PATH;
    std::optional<bool> kernelWireguard; // nullopt: ask the running kernel
    std::string normalDir;
};

void printUsage(std::FILE* to) {
    std::fprintf(to,
                 "Usage: vpnsteer-generator [OPTION]... NORMAL_DIR [EARLY_DIR LATE_DIR]\n"
                 "Writes systemd-networkd files and vpn-NAME.service units for the VPNs of\n"
                 "the vpnsteer spec. systemd runs it at boot and on daemon-reload.\n"
                 "\n"
                 "  --spec FILE                 the spec (default %s)\n"
                 "  --network-dir DIR           where networkd files go (default %s)\n"
                 "  --cli PATH                  the vpnsteer program the units run (default %s)\n"
                 "  --fastd PATH                fastd (default %s)\n"
                 "  --fastd-dir DIR             where fastd configs go (default %s)\n"
                 "  --state-dir DIR             vpnsteerd's state folder (default %s)\n"
                 "  --packetmark PATH           libpacketmark.so, which systemd-timesyncd's\n"
                 "                              drop-in preloads (default %s)\n"
                 "  --kernel-wireguard yes|no   how \"implementation\": \"auto\" resolves\n"
                 "                              (default: ask the running kernel)\n"
                 "  -h, --help                  show this help\n",
                 VPNSTEER_SPEC_PATH, VPNSTEER_NETWORK_DIR, VPNSTEER_CLI_PATH, VPNSTEER_FASTD_PATH,
                 VPNSTEER_FASTD_DIR, VPNSTEER_STATE_DIR, VPNSTEER_PACKETMARK_PATH);
}

// Returns an exit status when the program should stop right away.
std::optional<int> parseArguments(int argc, char** argv, Arguments& arguments, Log& log) {
    enum { spec = 256, networkDir, cli, kernelWireguard, fastd, fastdDir, stateDir, packetmark };
    static const option options[] = {
        {"spec", required_argument, nullptr, spec},
        {"network-dir", required_argument, nullptr, networkDir},
        {"cli", required_argument, nullptr, cli},
        {"kernel-wireguard", required_argument, nullptr, kernelWireguard},
        {"fastd", required_argument, nullptr, fastd},
        {"fastd-dir", required_argument, nullptr, fastdDir},
        {"state-dir", required_argument, nullptr, stateDir},
        {"packetmark", required_argument, nullptr, packetmark},
        {"help", no_argument, nullptr, 'h'},
        {nullptr, 0, nullptr, 0},
    };
    opterr = 0;
    for (int option; (option = getopt_long(argc, argv, "+h", options, nullptr)) != -1;) {
        switch (option) {
        case spec:
            arguments.specPath = optarg;
            break;
        case networkDir:
            arguments.networkDir = optarg;
            break;
        case cli:
            arguments.cliPath = optarg;
            break;
        case fastd:
            arguments.fastdPath = optarg;
            break;
        case fastdDir:
            arguments.fastdDir = optarg;
            break;
        case stateDir:
            arguments.stateDir = optarg;
            break;
        case packetmark:
            arguments.packetmarkPath = optarg;
            break;
        case kernelWireguard:
            if (std::string_view(optarg) == "yes" || std::string_view(optarg) == "no") {
                arguments.kernelWireguard = std::string_view(optarg) == "yes";
                break;
            }
            log.error("--kernel-wireguard takes yes or no, got " + quoted(optarg));
            return exitUsage;
        case 'h':
            printUsage(stdout);
            return exitOk;
        default:
            log.error("unknown option " + quoted(argv[optind - 1]) +
                      "; see vpnsteer-generator --help");
            return exitUsage;
        }
    }
    const int folders = argc - optind;
    if (folders != 1 && folders != 3) {
        log.error("expects NORMAL_DIR or NORMAL_DIR EARLY_DIR LATE_DIR, got " +
                  std::to_string(folders) + " arguments; see vpnsteer-generator --help");
        return exitUsage;
    }
    arguments.normalDir = argv[optind];
    if (!arguments.specPath.empty() && arguments.specPath.front() != '/') {
        std::error_code error;
        auto absolute = std::filesystem::absolute(arguments.specPath, error);
        if (!error)
            arguments.specPath = absolute.lexically_normal().string();
    }
    return std::nullopt;
}

bool anyResolvesAtRunTime(const Spec& spec) {
    for (const auto& [name, vpn] : spec.vpns)
        if (vpn.protocol == Protocol::wireguard &&
            vpn.implementation == WireguardImplementation::automatic)
            return true;
    return false;
}

// listDirectory(), with a failure logged and noted in `failed`: then nothing is known to
// be there.
std::vector<std::string> listOrLog(const std::filesystem::path& dir, Log& log, bool& failed) {
    try {
        return listDirectory(dir);
    } catch (const std::system_error& error) {
        log.error(error.what());
        failed = true;
        return {};
    }
}

// Writes every file, going on past a failure. Returns false if any failed. `existing` is
// what a listing found in `dir` before; files not in it are known to be new.
bool writeFiles(const std::filesystem::path& dir, Readers readers, const FileSet& files,
                const std::vector<std::string>& existing, Log& log, mode_t mode = 0644) {
    if (files.empty())
        return true;
    std::optional<OutputDirectory> output;
    try {
        makeDirectories(dir);
        output.emplace(dir, readers, mode);
    } catch (const std::system_error& error) {
        log.error(error.what());
        return false;
    }
    bool ok = true;
    for (const auto& [name, contents] : files) {
        try {
            output->write(name, contents,
                          std::binary_search(existing.begin(), existing.end(), name));
        } catch (const std::system_error& error) {
            log.error(error.what());
            ok = false;
        }
    }
    return ok;
}

int run(const Arguments& arguments, Log& log) {
    RenderOptions options{
        arguments.specPath,      arguments.cliPath,  arguments.kernelWireguard.value_or(true),
        arguments.fastdPath,     arguments.fastdDir, arguments.stateDir,
        arguments.packetmarkPath};
    if (auto problem = renderOptionsProblem(options)) {
        log.error(*problem);
        return exitUsage;
    }
    bool failed = false;

    std::optional<ParseResult> parsed;
    try {
        if (auto text = readRegularFile(arguments.specPath))
            parsed = parseSpec(*text);
    } catch (const std::runtime_error& error) {
        log.error(error.what());
        failed = true;
        parsed.emplace().rejected = true;
    }
    if (!arguments.kernelWireguard && parsed && anyResolvesAtRunTime(parsed->spec))
        options.kernelHasWireguard = kernelSupportsWireguard();

    const std::vector<std::string> existing = listOrLog(arguments.networkDir, log, failed);

    const Plan plan = planRun(parsed, existing, options);
    for (const auto& message : plan.errors)
        log.error(message);
    failed |= plan.failed();

    // systemd empties the generator folders before each run, but a run by hand may not.
    const std::vector<std::string> existingUnits = listOrLog(arguments.normalDir, log, failed);
    failed |= !writeFiles(arguments.normalDir, Readers::none, plan.unitFiles, existingUnits, log);
    for (const auto& [unit, dropIns] : plan.unitDropIns) {
        const std::filesystem::path dir =
            std::filesystem::path(arguments.normalDir) / (unit + ".d");
        const std::vector<std::string> existingDropIns = listOrLog(dir, log, failed);
        failed |= !writeFiles(dir, Readers::none, dropIns, existingDropIns, log);
    }
    failed |=
        !writeFiles(arguments.networkDir, Readers::concurrent, plan.networkFiles, existing, log);
    // fastd's configs name the secret file and the peers: for root's eyes only.
    const std::vector<std::string> existingFastd = listOrLog(arguments.fastdDir, log, failed);
    failed |= !writeFiles(arguments.fastdDir, Readers::concurrent, plan.fastdFiles, existingFastd,
                          log, 0600);
    if (plan.removeStaleFiles) {
        for (Removal removal :
             {removeStaleFiles(arguments.networkDir, plan.keepNetworkFiles),
              removeStaleFiles(arguments.fastdDir, plan.keepFastdFiles, isFastdFile)}) {
            for (const auto& message : removal.errors)
                log.error(message);
            failed |= !removal.errors.empty();
        }
    }
    return failed ? exitFailure : exitOk;
}

} // namespace

int main(int argc, char** argv) {
    // Generated files are world-readable whatever umask systemd or a shell passes on.
    ::umask(022);
    Log log;
    Arguments arguments;
    if (auto status = parseArguments(argc, argv, arguments, log))
        return *status;
    try {
        return run(arguments, log);
    } catch (const std::exception& error) {
        log.error(error.what());
        return exitFailure;
    }
}
