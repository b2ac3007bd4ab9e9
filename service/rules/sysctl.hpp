// Kernel parameters under /proc/sys. The real one writes files; unit tests use a fake.
#pragma once

#include <string>
#include <string_view>

namespace vpnsteer::rules {

class Sysctl {
public:
    virtual ~Sysctl() = default;

    // `key` as sysctl(8) writes it: "net.ipv4.conf.all.src_valid_mark". Throws
    // std::system_error naming the key and value on failure.
    virtual void write(std::string_view key, std::string_view value) = 0;
};

// Writes /proc/sys/<key with dots as slashes>. In a network namespace, net.* is that
// namespace's own.
class ProcSysctl final : public Sysctl {
public:
    void write(std::string_view key, std::string_view value) override;
};

} // namespace vpnsteer::rules
