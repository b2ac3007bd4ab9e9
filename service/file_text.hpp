// Reads a small file whole, without iostreams.
//
// vpnsteerd reads only a handful of small files (the spec, key files, pid files, transport
// modes, resolv.conf); `vpnsteer check` reads the spec with it too. A std::ifstream would construct
// the C++ locale and its facets on first use, which maps in a large part of libstdc++'s code for
// the daemon's lifetime; plain read(2) keeps the daemon's resident memory down (bench/wandns
// measures it against dnsmasq).
#pragma once

#include <optional>
#include <string>

namespace vpnsteer {

// The file's bytes, or nullopt with errno saying why it could not be read.
std::optional<std::string> readFileText(const std::string& path);

} // namespace vpnsteer
