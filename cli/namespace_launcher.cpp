#include "cli/namespace_launcher.hpp"

#include "cli/subcommand.hpp"
#include "core/unique_fd.hpp"
#include "service/rules/netlink.hpp"

#include <array>
#include <cerrno>
#include <climits>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <grp.h>
#include <net/if.h>
#include <netlink/addr.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/route.h>
#include <optional>
#include <ostream>
#include <pwd.h>
#include <sched.h>
#include <stdexcept>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <system_error>
#include <unistd.h>
#include <vector>

namespace vpnsteer::cli {

namespace {

using rules::netlinkError;
using rules::NetlinkSocketPtr;

struct LinkDeleter {
    void operator()(rtnl_link* link) const { rtnl_link_put(link); }
};
struct AddressDeleter {
    void operator()(rtnl_addr* address) const { rtnl_addr_put(address); }
};
struct RouteDeleter {
    void operator()(rtnl_route* route) const { rtnl_route_put(route); }
};
struct NetlinkAddressDeleter {
    void operator()(nl_addr* address) const { nl_addr_put(address); }
};
using LinkPtr = std::unique_ptr<rtnl_link, LinkDeleter>;
using AddressPtr = std::unique_ptr<rtnl_addr, AddressDeleter>;
using RoutePtr = std::unique_ptr<rtnl_route, RouteDeleter>;
using NetlinkAddressPtr = std::unique_ptr<nl_addr, NetlinkAddressDeleter>;

// The command's end of the veth, inside the namespace.
constexpr const char* namespaceLink = "eth0";
// Folders whose sockets answer name lookups on the host's behalf: systemd-resolved's varlink
// socket (glibc's nss-resolve talks to it directly, whatever resolv.conf says) and nscd's.
// An empty tmpfs over each keeps lookups inside the namespace.
constexpr std::array hiddenResolverFolders{"/run/systemd/resolve", "/run/nscd"};

[[noreturn]] void throwErrno(const std::string& whatWasTried) {
    throw std::system_error(errno, std::generic_category(), whatWasTried);
}

void check(int result, const std::string& whatWasTried) {
    if (result < 0)
        throwErrno(whatWasTried);
}

void checkNetlink(int code, const std::string& whatWasTried) {
    if (code < 0)
        throw netlinkError(code, whatWasTried);
}

NetlinkSocketPtr connectRouteSocket() {
    NetlinkSocketPtr socket(nl_socket_alloc());
    if (!socket)
        throw std::bad_alloc();
    checkNetlink(nl_connect(socket.get(), NETLINK_ROUTE), "connecting a NETLINK_ROUTE socket");
    return socket;
}

// The link named `name`, or none when it does not exist.
LinkPtr findLink(nl_sock* socket, const std::string& name) {
    rtnl_link* link = nullptr;
    int code = rtnl_link_get_kernel(socket, 0, name.c_str(), &link);
    if (code == -NLE_OBJ_NOTFOUND || code == -NLE_NODEV)
        return nullptr;
    checkNetlink(code, "looking up link " + name);
    return LinkPtr(link);
}

void deleteLink(nl_sock* socket, const std::string& name) {
    LinkPtr link(rtnl_link_alloc());
    if (!link)
        throw std::bad_alloc();
    rtnl_link_set_name(link.get(), name.c_str());
    int code = rtnl_link_delete(socket, link.get());
    if (code != -NLE_OBJ_NOTFOUND && code != -NLE_NODEV)
        checkNetlink(code, "deleting link " + name);
}

// One address of the bridge's subnet, held: the lock file stays locked while this lives.
struct AddressLease {
    unsigned host = 0;
    UniqueFd lock;
};

void makeFolder(const char* path, mode_t mode) {
    if (mkdir(path, mode) < 0 && errno != EEXIST)
        throwErrno(std::string("creating ") + path);
}

// The first free exec address of the subnet. An address is free when nobody holds its lock
// and its veth is gone: a namespace whose exec was killed may live on in a command's child,
// and keeps its address until it ends.
std::optional<AddressLease> leaseAddress(nl_sock* socket, std::uint32_t vpnId) {
    makeFolder("/run/vpnsteer", 0755);
    makeFolder(execLockDirectory, 0700);
    for (unsigned host = firstExecHost; host <= lastExecHost; ++host) {
        const std::string path = std::string(execLockDirectory) + "/" + std::to_string(vpnId) +
                                 "." + std::to_string(host) + ".lock";
        UniqueFd lock(open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
        if (!lock)
            throwErrno("opening " + path);
        if (flock(lock.get(), LOCK_EX | LOCK_NB) < 0) {
            if (errno == EWOULDBLOCK)
                continue;
            throwErrno("locking " + path);
        }
        if (findLink(socket, execVethName(vpnId, host)))
            continue;
        return AddressLease{host, std::move(lock)};
    }
    return std::nullopt;
}

// The veth pair: the bridge's end up and enslaved here, the other end (eth0) created straight
// inside the namespace of process `inside`.
void createVeth(nl_sock* socket, const std::string& name, int bridgeIndex, pid_t inside) {
    LinkPtr veth(rtnl_link_veth_alloc());
    if (!veth)
        throw std::bad_alloc();
    rtnl_link_set_name(veth.get(), name.c_str());
    rtnl_link_set_master(veth.get(), bridgeIndex);
    rtnl_link_set_flags(veth.get(), IFF_UP);
    LinkPtr peer(rtnl_link_veth_get_peer(veth.get()));
    rtnl_link_set_name(peer.get(), namespaceLink);
    rtnl_link_set_ns_pid(peer.get(), inside);
    checkNetlink(rtnl_link_add(socket, veth.get(), NLM_F_CREATE | NLM_F_EXCL),
                 "creating veth " + name);
}

// --- inside the namespace, before the command runs ------------------------------------------

void bringUp(nl_sock* socket, const char* name) {
    LinkPtr link = findLink(socket, name);
    if (!link)
        throw std::runtime_error(std::string("link ") + name + " did not arrive in the namespace");
    LinkPtr change(rtnl_link_alloc());
    if (!change)
        throw std::bad_alloc();
    rtnl_link_set_flags(change.get(), IFF_UP);
    checkNetlink(rtnl_link_change(socket, link.get(), change.get(), 0),
                 std::string("bringing up ") + name);
}

NetlinkAddressPtr parseAddress(const std::string& text) {
    nl_addr* address = nullptr;
    checkNetlink(nl_addr_parse(text.c_str(), AF_INET, &address), "parsing " + text);
    return NetlinkAddressPtr(address);
}

void configureNetwork(const BridgeNamespaceRequest& request, unsigned host) {
    NetlinkSocketPtr socket = connectRouteSocket();
    bringUp(socket.get(), "lo");
    bringUp(socket.get(), namespaceLink);
    const int index = static_cast<int>(if_nametoindex(namespaceLink));

    const std::string local = bridgeSubnetAddress(request.vpnId, host) + "/24";
    AddressPtr address(rtnl_addr_alloc());
    if (!address)
        throw std::bad_alloc();
    rtnl_addr_set_ifindex(address.get(), index);
    checkNetlink(rtnl_addr_set_local(address.get(), parseAddress(local).get()),
                 "setting address " + local);
    checkNetlink(rtnl_addr_add(socket.get(), address.get(), 0), "adding address " + local);

    const std::string gateway = bridgeSubnetAddress(request.vpnId, 1);
    RoutePtr route(rtnl_route_alloc());
    rtnl_nexthop* nexthop = rtnl_route_nh_alloc();
    if (!route || !nexthop)
        throw std::bad_alloc();
    rtnl_route_set_family(route.get(), AF_INET);
    checkNetlink(rtnl_route_set_dst(route.get(), parseAddress("0.0.0.0/0").get()),
                 "setting the default route");
    rtnl_route_nh_set_ifindex(nexthop, index);
    rtnl_route_nh_set_gateway(nexthop, parseAddress(gateway).get());
    rtnl_route_add_nexthop(route.get(), nexthop); // the route owns it from here
    checkNetlink(rtnl_route_add(socket.get(), route.get(), NLM_F_CREATE),
                 "adding the default route via " + gateway);
}

void writeFile(const std::string& path, const std::string& text, mode_t mode) {
    UniqueFd file(open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode));
    if (!file)
        throwErrno("creating " + path);
    for (std::size_t done = 0; done < text.size();) {
        ssize_t written = write(file.get(), text.data() + done, text.size() - done);
        if (written < 0 && errno != EINTR)
            throwErrno("writing " + path);
        done += written < 0 ? 0 : static_cast<std::size_t>(written);
    }
}

void mountTmpfs(const char* where, const char* options) {
    check(mount("vpnsteer-exec", where, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, options),
          std::string("mounting a tmpfs on ") + where);
}

bool isFolder(const char* path) {
    struct stat status {};
    return stat(path, &status) == 0 && S_ISDIR(status.st_mode);
}

// The file that /etc/resolv.conf stands for: the file itself, or where its link points
// (systemd-resolved's hosts link it into /run/systemd/resolve, which exec hides).
std::string resolvConfTarget() {
    char resolved[PATH_MAX];
    if (realpath("/etc/resolv.conf", resolved))
        return resolved;
    // A link to a file that is not there (yet): aim at the same place.
    char target[PATH_MAX];
    ssize_t length = readlink("/etc/resolv.conf", target, sizeof target - 1);
    if (length < 0)
        throwErrno("finding /etc/resolv.conf");
    target[length] = '\0';
    std::string path = target[0] == '/' ? target : std::string("/etc/") + target;
    const std::string folder = path.substr(0, path.rfind('/'));
    if (!realpath(folder.c_str(), resolved))
        throwErrno("finding /etc/resolv.conf's folder " + folder);
    return std::string(resolved) + path.substr(path.rfind('/'));
}

// The namespace's own view of files: its sysfs, its resolv.conf, no host resolver sockets.
// Everything happens in a mount namespace of its own, so the host sees none of it.
void configureMounts(const BridgeNamespaceRequest& request) {
    // Slave, not private: mounts the host makes later still show up, ours never go back.
    check(mount(nullptr, "/", nullptr, MS_REC | MS_SLAVE, nullptr), "making / a slave mount");
    // sysfs shows the links of the network namespace that mounted it (as ip-netns(8) does).
    struct statvfs sys {};
    unsigned long sysFlags = MS_NOSUID | MS_NODEV | MS_NOEXEC;
    if (statvfs("/sys", &sys) == 0 && (sys.f_flag & ST_RDONLY))
        sysFlags |= MS_RDONLY;
    if (umount2("/sys", MNT_DETACH) == 0 || errno == EINVAL)
        check(mount("sysfs", "/sys", "sysfs", sysFlags, nullptr), "mounting /sys");

    const std::string target = resolvConfTarget();
    for (const char* folder : hiddenResolverFolders) {
        if (isFolder(folder))
            mountTmpfs(folder, "mode=0755,size=64k");
    }
    // exec's own scratch folder: the locks are the parent's business, not the command's.
    mountTmpfs(execLockDirectory, "mode=0755,size=64k");
    const std::string ours = std::string(execLockDirectory) + "/resolv.conf";
    writeFile(ours, execResolvConf(request.vpnName, request.dns), 0644);
    if (access(target.c_str(), F_OK) < 0)
        writeFile(target, "", 0644); // in a hidden folder: something to mount on
    check(mount(ours.c_str(), target.c_str(), nullptr, MS_BIND, nullptr),
          "mounting the namespace's resolv.conf on " + target);
}

// --- who the command runs as ------------------------------------------------------------------

struct Account {
    std::vector<gid_t> groups;
    std::optional<std::string> name;
    std::optional<std::string> home;
};

// The account's supplementary groups, name and home, as login(1) would give them; an id with
// no passwd entry keeps only its primary group.
Account accountOf(const CommandUser& user) {
    Account account{.groups = {user.gid}, .name = {}, .home = {}};
    const passwd* entry = getpwuid(user.uid);
    if (!entry)
        return account;
    account.name = entry->pw_name;
    account.home = entry->pw_dir;
    int count = 32;
    std::vector<gid_t> groups(static_cast<std::size_t>(count));
    while (getgrouplist(entry->pw_name, user.gid, groups.data(), &count) < 0)
        groups.resize(static_cast<std::size_t>(count));
    groups.resize(static_cast<std::size_t>(count));
    account.groups = std::move(groups);
    return account;
}

void becomeUser(const CommandUser& user, const Account& account) {
    if (user.uid == 0 && user.gid == 0)
        return;
    // Groups first, user id last: after setuid there are no rights left to change the rest.
    check(setgroups(account.groups.size(), account.groups.data()), "setting groups");
    check(setgid(user.gid), "setting group id " + std::to_string(user.gid));
    check(setuid(user.uid), "setting user id " + std::to_string(user.uid));
    if (user.uid != 0 && setuid(0) == 0)
        throw std::runtime_error("root could be regained after dropping it; not running");
    if (account.name) {
        setenv("USER", account.name->c_str(), 1);
        setenv("LOGNAME", account.name->c_str(), 1);
    }
    if (account.home)
        setenv("HOME", account.home->c_str(), 1);
}

// --- the two processes --------------------------------------------------------------------------

// What the child tells the parent on its pipe: "u" once it has its namespaces, then, only if
// something fails before the command runs, "!" and the reason. A successful execve closes the
// pipe (O_CLOEXEC), which the parent reads as "the command runs".
constexpr char unsharedByte = 'u';
constexpr char goByte = 'g';
constexpr char failureByte = '!';

void writeAll(int fd, const std::string& text) {
    for (std::size_t done = 0; done < text.size();) {
        ssize_t written = write(fd, text.data() + done, text.size() - done);
        if (written < 0 && errno != EINTR)
            return;
        done += written < 0 ? 0 : static_cast<std::size_t>(written);
    }
}

std::string readAll(int fd) {
    std::string text;
    char buffer[512];
    while (true) {
        ssize_t count = read(fd, buffer, sizeof buffer);
        if (count < 0 && errno == EINTR)
            continue;
        if (count <= 0)
            return text;
        text.append(buffer, static_cast<std::size_t>(count));
    }
}

void dieWithParent(pid_t parent) {
    // Cleared by every change of credentials (prctl(2)), so set again after dropping root.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(1);
}

[[noreturn]] void childMain(const BridgeNamespaceRequest& request, const Account& account,
                            unsigned host, pid_t parent, const sigset_t& originalMask, int toParent,
                            int fromParent) {
    dieWithParent(parent);
    // Only the mask is vpnsteer's; dispositions stay as inherited (a SIGINT ignored by the
    // caller stays ignored in the command, as across any exec).
    sigprocmask(SIG_SETMASK, &originalMask, nullptr);
    std::string failure;
    try {
        check(unshare(CLONE_NEWNET | CLONE_NEWNS), "making the network and mount namespaces");
        writeAll(toParent, std::string(1, unsharedByte));
        char go = 0;
        if (read(fromParent, &go, 1) != 1 || go != goByte)
            _exit(1); // the parent gave up and says why
        configureNetwork(request, host);
        configureMounts(request);
        becomeUser(request.user, account);
        dieWithParent(parent);
    } catch (const std::exception& error) {
        writeAll(toParent, failureByte + std::string(error.what()));
        _exit(1);
    }
    std::vector<char*> argv;
    for (const std::string& word : request.command)
        argv.push_back(const_cast<char*>(word.c_str()));
    argv.push_back(nullptr);
    execvp(argv[0], argv.data());
    // As a shell: 127 when there is no such command, 126 when it cannot be executed.
    const int status = errno == ENOENT ? 127 : 126;
    writeAll(toParent,
             failureByte + ("cannot run '" + request.command[0] + "': " + std::strerror(errno)));
    _exit(status);
}

struct Pipe {
    UniqueFd read;
    UniqueFd write;
};

Pipe makePipe() {
    int ends[2];
    check(pipe2(ends, O_CLOEXEC), "creating a pipe");
    return {UniqueFd(ends[0]), UniqueFd(ends[1])};
}

int exitStatusOf(int status) {
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return WEXITSTATUS(status);
}

// Waits for the command, passing on the signals vpnsteer gets. A signal from the terminal
// (Ctrl-C: si_code SI_KERNEL) went to the whole foreground process group, the command
// included, and is not sent twice.
int waitForCommand(pid_t child, const sigset_t& handled) {
    while (true) {
        siginfo_t info{};
        int signal = sigwaitinfo(&handled, &info);
        if (signal < 0)
            continue; // EINTR: a signal outside the set, e.g. from a debugger
        if (signal == SIGCHLD) {
            int status = 0;
            if (waitpid(child, &status, WNOHANG) == child)
                return exitStatusOf(status);
            continue;
        }
        if (info.si_code != SI_KERNEL)
            kill(child, signal);
    }
}

// Blocks the signals vpnsteer passes on for as long as it lives, so none is lost between
// fork and sigwaitinfo; restores the mask when done.
class BlockedSignals {
public:
    BlockedSignals() {
        sigemptyset(&set_);
        for (int signal : {SIGCHLD, SIGINT, SIGTERM, SIGHUP, SIGQUIT})
            sigaddset(&set_, signal);
        // An inherited SIG_IGN for SIGCHLD would make the kernel reap the command for us.
        std::signal(SIGCHLD, SIG_DFL);
        sigprocmask(SIG_BLOCK, &set_, &original_);
    }
    ~BlockedSignals() { sigprocmask(SIG_SETMASK, &original_, nullptr); }
    BlockedSignals(const BlockedSignals&) = delete;
    BlockedSignals& operator=(const BlockedSignals&) = delete;

    const sigset_t& set() const { return set_; }
    const sigset_t& original() const { return original_; }

private:
    sigset_t set_{};
    sigset_t original_{};
};

} // namespace

CallerIdentity currentCaller() {
    CallerIdentity caller{.realUid = getuid(), .effectiveUid = geteuid()};
    if (const char* uid = std::getenv("SUDO_UID"))
        caller.sudoUid = uid;
    if (const char* gid = std::getenv("SUDO_GID"))
        caller.sudoGid = gid;
    return caller;
}

int runInBridgeNamespace(const BridgeNamespaceRequest& request, std::ostream& err) {
    const std::string prefix = std::string(programName) + ": ";
    NetlinkSocketPtr socket;
    std::optional<AddressLease> lease;
    int bridgeIndex = 0;
    try {
        socket = connectRouteSocket();
        LinkPtr bridge = findLink(socket.get(), request.bridge);
        if (!bridge) {
            err << prefix << "VPN " << request.vpnName << " has no bridge " << request.bridge
                << " (networkd makes it from 61-vpnsteer-" << request.vpnName
                << "-bridge.netdev); see: networkctl status " << request.bridge << '\n';
            return 1;
        }
        bridgeIndex = rtnl_link_get_ifindex(bridge.get());
        lease = leaseAddress(socket.get(), request.vpnId);
    } catch (const std::exception& error) {
        err << prefix << error.what() << '\n';
        return 1;
    }
    if (!lease) {
        err << prefix << "every exec address of " << request.bridge << " ("
            << bridgeSubnetAddress(request.vpnId, firstExecHost) << " to ." << lastExecHost
            << ") is in use\n";
        return 1;
    }
    const std::string vethName = execVethName(request.vpnId, lease->host);
    const Account account = accountOf(request.user);

    BlockedSignals signals;
    Pipe toParent = makePipe();
    Pipe toChild = makePipe();
    const pid_t parent = getpid();
    const pid_t child = fork();
    if (child < 0) {
        err << prefix << "cannot fork: " << std::strerror(errno) << '\n';
        return 1;
    }
    if (child == 0) {
        toParent.read.reset();
        toChild.write.reset();
        childMain(request, account, lease->host, parent, signals.original(), toParent.write.get(),
                  toChild.read.get());
    }
    toParent.write.reset();
    toChild.read.reset();

    // Whatever happens from here, the veth goes when the command has ended.
    auto finish = [&](int status) {
        try {
            deleteLink(socket.get(), vethName);
        } catch (const std::exception& error) {
            err << prefix << error.what() << ", ignoring\n";
        }
        return status;
    };
    auto failed = [&](const std::string& reason, int fallbackStatus) {
        toChild.write.reset(); // a child still waiting for "go" ends
        int status = 0;
        while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
        }
        err << prefix << reason << '\n';
        return finish(WIFEXITED(status) && WEXITSTATUS(status) != 0 ? WEXITSTATUS(status)
                                                                    : fallbackStatus);
    };

    char first = 0;
    if (read(toParent.read.get(), &first, 1) != 1 || first != unsharedByte) {
        std::string reason = readAll(toParent.read.get());
        return failed(reason.empty() ? "the namespace's process ended early" : reason, 1);
    }
    try {
        createVeth(socket.get(), vethName, bridgeIndex, child);
    } catch (const std::exception& error) {
        return failed(error.what(), 1);
    }
    writeAll(toChild.write.get(), std::string(1, goByte));
    toChild.write.reset();
    if (std::string message = readAll(toParent.read.get()); !message.empty())
        return failed(message.substr(1), 1);
    return finish(waitForCommand(child, signals.set()));
}

} // namespace vpnsteer::cli
