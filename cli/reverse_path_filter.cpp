#include "cli/reverse_path_filter.hpp"

#include "cli/subcommand.hpp"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string_view>

namespace vpnsteer::cli {

namespace {

constexpr std::string_view confFolder = "/proc/sys/net/ipv4/conf/";

int readRpFilter(const FileReader& read, const std::string& interface) {
    const std::optional<std::string> text =
        read(std::string(confFolder) + interface + "/rp_filter");
    if (!text)
        return 0;
    const std::size_t start = text->find_first_not_of(" \t\n");
    if (start == std::string::npos)
        return 0;
    int value = 0;
    const char* first = text->data() + start;
    if (std::from_chars(first, text->data() + text->size(), value).ec != std::errc())
        return 0;
    return value;
}

// sysctl(8) writes the '.' of an interface name (a VLAN such as eth0.100) as '/'.
std::string sysctlName(std::string interface) {
    std::ranges::replace(interface, '.', '/');
    return "net.ipv4.conf." + interface + ".rp_filter";
}

// The interfaces of the IPv4 default routes of the main table: /proc/net/route has one line
// per route, fields Iface, Destination, Gateway, Flags, RefCnt, Use, Metric, Mask, ...
// with addresses in hex. Unreachable and blackhole routes have the interface "*".
std::vector<std::string> defaultRouteInterfaces(const FileReader& read) {
    std::vector<std::string> interfaces;
    const std::optional<std::string> table = read("/proc/net/route");
    if (!table)
        return interfaces;
    std::istringstream lines(*table);
    std::string line;
    std::getline(lines, line); // the header
    while (std::getline(lines, line)) {
        std::istringstream fields(line);
        std::vector<std::string> field{std::istream_iterator<std::string>(fields), {}};
        if (field.size() < 8 || field[0] == "*" || field[1] != "00000000" || field[7] != "00000000")
            continue;
        if (std::ranges::find(interfaces, field[0]) == interfaces.end())
            interfaces.push_back(field[0]);
    }
    return interfaces;
}

} // namespace

std::vector<std::string> strictReversePathFilters(const FileReader& read) {
    constexpr int strict = 1;
    std::vector<std::string> uplinks = defaultRouteInterfaces(read);
    if (uplinks.empty())
        uplinks.push_back("default");

    const int all = readRpFilter(read, "all");
    std::vector<std::string> strictSysctls;
    for (const std::string& uplink : uplinks) {
        if (std::max(all, readRpFilter(read, uplink)) != strict)
            continue;
        std::string name = sysctlName(all == strict ? "all" : uplink);
        if (std::ranges::find(strictSysctls, name) == strictSysctls.end())
            strictSysctls.push_back(std::move(name));
    }
    return strictSysctls;
}

std::string reversePathFilterWarning(const std::string& sysctl) {
    return std::string(programName) + ": warning: " + sysctl +
           " is 1 (strict), so the kernel drops a system-wide VPN's replies on the uplink; "
           "make it loose with: sysctl -w " +
           sysctl + "=2";
}

std::optional<std::string> readSmallFile(const std::string& path) {
    std::ifstream file(path);
    if (!file)
        return std::nullopt;
    std::string text{std::istreambuf_iterator<char>(file), {}};
    if (file.bad())
        return std::nullopt;
    return text;
}

} // namespace vpnsteer::cli
