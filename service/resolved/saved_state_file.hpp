// SavedStateStore as a file, written atomically (a temporary file renamed over it), so that a
// crash never leaves half a state. In production /run/vpnsteer/resolved.json: /run lasts until
// reboot, as resolved's runtime settings do.
#pragma once

#include "service/resolved/link_dns.hpp"

#include <string>

namespace vpnsteer::resolved {

class SavedStateFile final : public SavedStateStore {
public:
    explicit SavedStateFile(std::string path)
        : path_(std::move(path)) {}

    // Each throws std::system_error naming the file.
    std::string load() override;
    void save(const std::string& text) override;
    void remove() override;

private:
    std::string path_;
};

} // namespace vpnsteer::resolved
