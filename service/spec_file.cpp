#include "service/spec_file.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace vpnsteer {

ParseResult readSpecFile(const std::string& path) {
    errno = 0;
    std::ifstream file(path, std::ios::binary);
    if (!file) {
        const int error = errno != 0 ? errno : EIO;
        ParseResult unreadable;
        unreadable.errors.push_back(
            SpecError{path, std::string("cannot be read: ") + std::strerror(error)});
        return unreadable;
    }
    std::ostringstream text;
    text << file.rdbuf();
    return parseSpec(text.str());
}

} // namespace vpnsteer
