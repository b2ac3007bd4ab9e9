#include "service/spec_file.hpp"

#include "service/file_text.hpp"

#include <cerrno>
#include <cstring>

namespace vpnsteer {

ParseResult readSpecFile(const std::string& path) {
    std::optional<std::string> text = readFileText(path);
    if (!text) {
        const int error = errno;
        ParseResult unreadable;
        unreadable.errors.push_back(
            SpecError{path, std::string("cannot be read: ") + std::strerror(error)});
        return unreadable;
    }
    return parseSpec(*text);
}

} // namespace vpnsteer
