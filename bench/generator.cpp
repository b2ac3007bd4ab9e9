// bench-generator: how long vpnsteer-generator takes as a whole process (exec, read the spec,
// write every file, exit) for 1, 10 and 99 VPNs, next to systemd's own
// systemd-fstab-generator for an fstab of 1, 10 and 99 entries, measured in the same run.
//
// Target (issue 2): 99 VPNs (four files each) in no more time than fstab-generator takes
// for 99 entries, comparing medians.
//
// Both generators run with temporary output folders, fresh and empty for every run as systemd
// gives them at boot (fstab-generator even refuses to overwrite a unit: it opens with O_EXCL).
// The runs of both alternate, so load from elsewhere on the machine hits both alike.
//
// Keeping fstab-generator off the real system: with the environment below it reads only
// SYSTEMD_FSTAB, /proc/filesystems, /proc/sys/kernel/cap_last_cap and
// /run/systemd/efivars/SystemdOptions (absent outside EFI boots), looks up the mount point
// path without creating it, and writes only into the three folders it is given (checked with
// `strace -f -e trace=%file` on systemd 252). The entries are tmpfs mounts at /mnt/benchN:
// nothing is mounted, the units are only written.
#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <linux/magic.h>
#include <optional>
#include <sodium.h>
#include <spawn.h>
#include <sstream>
#include <stdexcept>
#include <string>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <system_error>
#include <time.h>
#include <unistd.h>
#include <vector>

#ifndef VPNSTEER_GENERATOR_PATH
#define VPNSTEER_GENERATOR_PATH ""
#endif
#ifndef SYSTEMD_FSTAB_GENERATOR_PATH
#define SYSTEMD_FSTAB_GENERATOR_PATH "/lib/systemd/system-generators/systemd-fstab-generator"
#endif

namespace fs = std::filesystem;

namespace {

constexpr std::array sizes{1, 10, 99};
constexpr int warmupRuns = 5;

struct Options {
    std::string generator = VPNSTEER_GENERATOR_PATH;
    std::string fstabGenerator = SYSTEMD_FSTAB_GENERATOR_PATH;
    int repetitions = 200;
    std::string workParent;
};

const char* usage =
    "Usage: bench-generator [--generator PATH] [--fstab-generator PATH] [--repetitions N]\n"
    "                       [--work-dir DIR]\n"
    "The work folder defaults to /dev/shm when it is a tmpfs, else $TMPDIR or /tmp.\n";

bool isTmpfs(const char* path) {
    struct statfs status {};
    return statfs(path, &status) == 0 && status.f_type == TMPFS_MAGIC;
}

// Generators write into /run, a tmpfs, at boot; on a disk filesystem file creation costs
// several times more (a 99-entry run here: about 12 ms on tmpfs, 40 ms on ext4) and would
// measure the disk rather than the programs.
std::string defaultWorkParent() {
    if (isTmpfs("/dev/shm") && access("/dev/shm", W_OK) == 0)
        return "/dev/shm";
    const char* tmpdir = std::getenv("TMPDIR");
    return tmpdir && *tmpdir ? tmpdir : "/tmp";
}

std::optional<Options> parseOptions(int argc, char* argv[]) {
    Options options;
    options.workParent = defaultWorkParent();
    for (int i = 1; i < argc; ++i) {
        std::string_view arg = argv[i];
        if (arg == "--help" || arg == "-h") {
            std::cout << usage;
            std::exit(0);
        }
        if (i + 1 >= argc)
            return std::nullopt;
        std::string value = argv[++i];
        if (arg == "--generator")
            options.generator = value;
        else if (arg == "--fstab-generator")
            options.fstabGenerator = value;
        else if (arg == "--work-dir")
            options.workParent = value;
        else if (arg == "--repetitions") {
            char* end = nullptr;
            long n = std::strtol(value.c_str(), &end, 10);
            if (*end != '\0' || n < 1 || n > 100000)
                return std::nullopt;
            options.repetitions = static_cast<int>(n);
        } else
            return std::nullopt;
    }
    return options;
}

// Ctrl-C ends the benchmark between two runs, so the work folder is still removed.
volatile std::sig_atomic_t interrupted = 0;

void stopAfterThisRun(int) {
    interrupted = 1;
}

void catchInterrupts() {
    struct sigaction action {};
    action.sa_handler = stopAfterThisRun;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, nullptr);
    sigaction(SIGTERM, &action, nullptr);
}

// The benchmark's scratch folder, removed with everything in it however the program ends.
class WorkFolder {
public:
    explicit WorkFolder(const std::string& parent) {
        std::string pattern = (fs::path(parent) / "bench-generator.XXXXXX").string();
        if (!mkdtemp(pattern.data()))
            throw std::system_error(errno, std::generic_category(),
                                    "creating a temporary folder in " + parent);
        path_ = pattern;
    }
    WorkFolder(const WorkFolder&) = delete;
    WorkFolder& operator=(const WorkFolder&) = delete;
    ~WorkFolder() {
        std::error_code ignored;
        fs::remove_all(path_, ignored);
    }
    const fs::path& path() const { return path_; }

private:
    fs::path path_;
};

std::string filesystemType(const fs::path& path) {
    struct statfs status {};
    if (statfs(path.c_str(), &status) != 0)
        return "unknown filesystem";
    switch (status.f_type) {
    case TMPFS_MAGIC:
        return "tmpfs";
    case 0xEF53:
        return "ext2/3/4";
    case 0x9123683E:
        return "btrfs";
    case 0x58465342:
        return "xfs";
    case 0x794c7630:
        return "overlayfs";
    default: {
        std::ostringstream text;
        text << "filesystem 0x" << std::hex << status.f_type;
        return text.str();
    }
    }
}

void writeFile(const fs::path& path, const std::string& text) {
    std::ofstream file(path);
    file << text;
    if (!file.flush())
        throw std::runtime_error("cannot write " + path.string());
}

// Distinct, valid WireGuard public keys: base64 of 32 bytes that encode the VPN's number.
std::string benchmarkPublicKey(int id) {
    std::array<unsigned char, 32> bytes{};
    bytes[0] = static_cast<unsigned char>(id);
    bytes[31] = 0x42;
    std::array<char, 45> base64{};
    sodium_bin2base64(base64.data(), base64.size(), bytes.data(), bytes.size(),
                      sodium_base64_VARIANT_ORIGINAL);
    return base64.data();
}

// A valid spec of `count` WireGuard VPNs, each with both address families and DNS so every
// file the generator writes has its full content. Addresses are documentation ranges.
std::string benchmarkSpec(int count) {
    std::ostringstream json;
    json << "{\n  \"version\": 1,\n  \"vpns\": {\n";
    for (int id = 1; id <= count; ++id) {
        json << "    \"bench" << id << "\": { \"id\": " << id << ", \"endpoint\": \"203.0.113."
             << id << ":51820\", \"publicKey\": \"" << benchmarkPublicKey(id)
             << "\", \"addrV4\": \"198.51.100." << id << "\", \"addrV6\": \"2001:db8:" << id
             << "::2\", \"dns\": [\"192.0.2." << id
             << "\"], \"privateKeyFile\": \"/etc/vpnsteer/bench" << id << ".key\" }"
             << (id < count ? ",\n" : "\n");
    }
    json << "  }\n}\n";
    return json.str();
}

std::string benchmarkFstab(int count) {
    std::ostringstream fstab;
    fstab << "# bench-generator: harmless entries, never mounted\n";
    for (int n = 1; n <= count; ++n)
        fstab << "tmpfs /mnt/bench" << n << " tmpfs defaults,size=1M 0 0\n";
    return fstab.str();
}

// One generator invocation: the program, its arguments after argv[0], its environment and
// the folders it writes to (made fresh before and removed after each run).
struct Run {
    std::string label;
    std::string program;
    std::vector<std::string> arguments;
    std::vector<std::string> environment;
    std::vector<fs::path> outputFolders;
    fs::path stderrFile;
};

void resetOutputFolders(const Run& run) {
    for (const fs::path& folder : run.outputFolders) {
        fs::remove_all(folder);
        fs::create_directories(folder);
    }
}

std::vector<char*> pointers(std::vector<std::string>& strings) {
    std::vector<char*> result;
    for (std::string& s : strings)
        result.push_back(s.data());
    result.push_back(nullptr);
    return result;
}

// Runs the generator once in fresh folders; returns the wall time from spawn to reaped exit.
std::chrono::nanoseconds timeOnce(const Run& run) {
    resetOutputFolders(run);

    std::vector<std::string> argv{run.program};
    argv.insert(argv.end(), run.arguments.begin(), run.arguments.end());
    std::vector<std::string> envp = run.environment;
    std::vector<char*> argvPointers = pointers(argv);
    std::vector<char*> envPointers = pointers(envp);

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, run.stderrFile.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0600);

    timespec start{}, end{};
    clock_gettime(CLOCK_MONOTONIC, &start);
    pid_t pid = 0;
    int error = posix_spawn(&pid, run.program.c_str(), &actions, nullptr, argvPointers.data(),
                            envPointers.data());
    int status = 0;
    if (error == 0) {
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &end);
    posix_spawn_file_actions_destroy(&actions);
    if (interrupted)
        throw std::runtime_error("interrupted");

    if (error != 0)
        throw std::system_error(error, std::generic_category(), "starting " + run.program);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        std::ifstream stderrText(run.stderrFile);
        std::ostringstream message;
        message << run.label << ": " << run.program;
        if (WIFEXITED(status))
            message << " exited with status " << WEXITSTATUS(status);
        else
            message << " was killed by signal " << WTERMSIG(status);
        message << "; its stderr:\n" << stderrText.rdbuf();
        throw std::runtime_error(message.str());
    }
    return std::chrono::seconds(end.tv_sec - start.tv_sec) +
           std::chrono::nanoseconds(end.tv_nsec - start.tv_nsec);
}

// Files and symlinks the last run left, so the figures come with proof that the work was done.
std::size_t countOutputs(const Run& run) {
    std::size_t count = 0;
    for (const fs::path& folder : run.outputFolders)
        for (const auto& entry : fs::recursive_directory_iterator(folder))
            if (entry.is_symlink() || entry.is_regular_file())
                ++count;
    return count;
}

struct Figures {
    double medianMs;
    double p90Ms;
};

Figures summarise(std::vector<std::chrono::nanoseconds> samples) {
    std::ranges::sort(samples);
    // Nearest-rank percentiles: each figure is one real measurement.
    auto rank = [&](double fraction) {
        auto index = static_cast<std::size_t>(std::ceil(fraction * samples.size()));
        return samples[std::clamp<std::size_t>(index, 1, samples.size()) - 1];
    };
    auto ms = [](std::chrono::nanoseconds d) { return d.count() / 1e6; };
    return {ms(rank(0.5)), ms(rank(0.9))};
}

// The environment of both generators: nothing of the caller's, so the host cannot steer
// either one. SYSTEMD_PROC_CMDLINE replaces /proc/cmdline (the host's kernel command line
// could add fstab= or root= entries), SYSTEMD_IN_INITRD=0 keeps fstab-generator from looking
// at /sysroot, and SYSTEMD_LOG_TARGET=console keeps any message out of the kernel log.
std::vector<std::string> baseEnvironment() {
    return {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C",
            "SYSTEMD_PROC_CMDLINE=", "SYSTEMD_IN_INITRD=0", "SYSTEMD_LOG_TARGET=console"};
}

Run vpnsteerRun(const Options& options, const fs::path& work, int size) {
    fs::path spec = work / ("spec-" + std::to_string(size) + ".json");
    writeFile(spec, benchmarkSpec(size));
    fs::path out = work / ("vpnsteer-" + std::to_string(size));
    Run run{"vpnsteer-generator, " + std::to_string(size) + (size == 1 ? " VPN" : " VPNs"),
            options.generator,
            {"--spec", spec.string(), "--network-dir", (out / "network").string(),
             (out / "normal").string(), (out / "early").string(), (out / "late").string()},
            baseEnvironment(),
            {out / "network", out / "normal", out / "early", out / "late"},
            work / "vpnsteer.stderr"};
    return run;
}

Run fstabRun(const Options& options, const fs::path& work, int size) {
    fs::path fstab = work / ("fstab-" + std::to_string(size));
    writeFile(fstab, benchmarkFstab(size));
    fs::path out = work / ("fstab-" + std::to_string(size) + ".out");
    std::vector<std::string> environment = baseEnvironment();
    environment.push_back("SYSTEMD_FSTAB=" + fstab.string());
    Run run{"systemd-fstab-generator, " + std::to_string(size) +
                (size == 1 ? " entry" : " entries"),
            options.fstabGenerator,
            {(out / "normal").string(), (out / "early").string(), (out / "late").string()},
            environment,
            {out / "normal", out / "early", out / "late"},
            work / "fstab.stderr"};
    return run;
}

void requireExecutable(const std::string& path, const char* what, const char* hint) {
    if (path.empty() || access(path.c_str(), X_OK) != 0) {
        std::cerr << "bench-generator: " << what << " \"" << path << "\" is not executable"
                  << (path.empty() ? "" : std::string(": ") + std::strerror(errno)) << " (" << hint
                  << ")\n";
        std::exit(1);
    }
}

} // namespace

int main(int argc, char* argv[]) {
    std::optional<Options> parsed = parseOptions(argc, argv);
    if (!parsed) {
        std::cerr << usage;
        return 1;
    }
    const Options& options = *parsed;
    requireExecutable(options.generator, "vpnsteer-generator", "pass --generator PATH");
    requireExecutable(options.fstabGenerator, "systemd-fstab-generator",
                      "pass --fstab-generator PATH");
    if (sodium_init() < 0) {
        std::cerr << "bench-generator: cannot initialise libsodium\n";
        return 1;
    }

    catchInterrupts();
    try {
        WorkFolder work(options.workParent);
        std::cout << "Generator whole-process time (spawn to exit), " << options.repetitions
                  << " runs per size, fresh output folders each run\n"
                  << "work folder: " << work.path().string() << " (" << filesystemType(work.path())
                  << ")\n"
                  << "ours:  " << options.generator << "\n"
                  << "peer:  " << options.fstabGenerator << "\n\n";

        struct Row {
            int size;
            std::size_t ourFiles, peerFiles;
            Figures ours, peer;
        };
        std::vector<Row> rows;
        for (int size : sizes) {
            Run ours = vpnsteerRun(options, work.path(), size);
            Run peer = fstabRun(options, work.path(), size);

            for (int i = 0; i < warmupRuns; ++i) {
                timeOnce(ours);
                timeOnce(peer);
            }
            std::size_t ourFiles = countOutputs(ours);
            std::size_t peerFiles = countOutputs(peer);
            if (ourFiles < static_cast<std::size_t>(size) ||
                peerFiles < static_cast<std::size_t>(size))
                throw std::runtime_error("size " + std::to_string(size) + ": vpnsteer wrote " +
                                         std::to_string(ourFiles) + " files, fstab-generator " +
                                         std::to_string(peerFiles) +
                                         "; expected at least one per entry");

            std::vector<std::chrono::nanoseconds> ourSamples, peerSamples;
            for (int i = 0; i < options.repetitions; ++i) {
                // Alternate which goes first so neither always runs on a warmer cache.
                if (i % 2 == 0) {
                    ourSamples.push_back(timeOnce(ours));
                    peerSamples.push_back(timeOnce(peer));
                } else {
                    peerSamples.push_back(timeOnce(peer));
                    ourSamples.push_back(timeOnce(ours));
                }
            }
            rows.push_back(
                {size, ourFiles, peerFiles, summarise(ourSamples), summarise(peerSamples)});
        }

        std::cout << "              vpnsteer-generator           systemd-fstab-generator      "
                     "ratio\n"
                  << "entries   files  median ms   p90 ms   files  median ms   p90 ms   "
                     "(median)\n";
        std::cout << std::fixed;
        for (const Row& row : rows) {
            std::cout << std::setw(7) << row.size << "   " << std::setw(5) << row.ourFiles
                      << std::setw(11) << std::setprecision(3) << row.ours.medianMs << std::setw(9)
                      << row.ours.p90Ms << "   " << std::setw(5) << row.peerFiles << std::setw(11)
                      << row.peer.medianMs << std::setw(9) << row.peer.p90Ms << std::setw(11)
                      << std::setprecision(2) << row.ours.medianMs / row.peer.medianMs << '\n';
        }

        const Row& largest = rows.back();
        bool pass = largest.ours.medianMs <= largest.peer.medianMs;
        std::cout << std::setprecision(3) << "\ntarget: " << largest.size
                  << " VPNs in no more time than systemd-fstab-generator with " << largest.size
                  << " entries (median): " << largest.ours.medianMs << " ms vs "
                  << largest.peer.medianMs << " ms, ratio " << std::setprecision(2)
                  << largest.ours.medianMs / largest.peer.medianMs << ": "
                  << (pass ? "PASS" : "MISS") << '\n';
        // A benchmark, not a test: a MISS is reported, not turned into a failure status.
        return 0;
    } catch (const std::exception& error) {
        std::cerr << "bench-generator: " << error.what() << '\n';
        return 1;
    }
}
