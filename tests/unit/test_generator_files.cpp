// Unit tests of the generator's file effects (generator/files.hpp), each in a temporary
// folder of its own.
#include "generator/files.hpp"

#include <fstream>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace vpnsteer::generator;
namespace fs = std::filesystem;

namespace {

class GeneratorFiles : public testing::Test {
protected:
    void SetUp() override {
        std::string pattern = (fs::temp_directory_path() / "vpnsteer-test.XXXXXX").string();
        ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
        dir_ = pattern;
    }
    void TearDown() override { fs::remove_all(dir_); }

    const fs::path& dir() const { return dir_; }

    void put(const std::string& name, const std::string& contents) {
        std::ofstream(dir_ / name) << contents;
    }
    std::string read(const std::string& name) {
        std::ifstream in(dir_ / name);
        return {std::istreambuf_iterator<char>(in), {}};
    }
    struct stat status(const std::string& name) {
        struct stat result {};
        EXPECT_EQ(::lstat((dir_ / name).c_str(), &result), 0) << name;
        return result;
    }

private:
    fs::path dir_;
};

} // namespace

TEST_F(GeneratorFiles, WritesANewFileReadableByNetworkd) {
    EXPECT_EQ(writeFileAtomically(dir(), "60-vpnsteer-us.network", "[Match]\nName=us\n"),
              WriteResult::written);
    EXPECT_EQ(read("60-vpnsteer-us.network"), "[Match]\nName=us\n");
    // systemd-networkd runs as systemd-network and must be able to read it.
    EXPECT_EQ(status("60-vpnsteer-us.network").st_mode & 07777, 0644u);
    EXPECT_EQ(listDirectory(dir()), std::vector<std::string>{"60-vpnsteer-us.network"})
        << "no temporary file may be left behind";
}

TEST_F(GeneratorFiles, LeavesAnIdenticalFileAlone) {
    put("a.network", "same\n");
    struct stat before = status("a.network");
    EXPECT_EQ(writeFileAtomically(dir(), "a.network", "same\n"), WriteResult::unchanged);
    struct stat after = status("a.network");
    EXPECT_EQ(before.st_ino, after.st_ino);
    EXPECT_EQ(before.st_mtim.tv_sec, after.st_mtim.tv_sec);
    EXPECT_EQ(before.st_mtim.tv_nsec, after.st_mtim.tv_nsec);
}

TEST_F(GeneratorFiles, ReplacesAChangedFileByRenaming) {
    put("a.network", "old\n");
    struct stat before = status("a.network");
    EXPECT_EQ(writeFileAtomically(dir(), "a.network", "new\n"), WriteResult::written);
    EXPECT_EQ(read("a.network"), "new\n");
    // A new inode: a reader that opened the old file kept reading the old bytes.
    EXPECT_NE(status("a.network").st_ino, before.st_ino);
    EXPECT_EQ(listDirectory(dir()), std::vector<std::string>{"a.network"});
}

TEST_F(GeneratorFiles, ReplacesASymlinkInsteadOfWritingThroughIt) {
    put("target", "precious\n");
    ASSERT_EQ(::symlink((dir() / "target").c_str(), (dir() / "a.network").c_str()), 0);
    EXPECT_EQ(writeFileAtomically(dir(), "a.network", "precious\n"), WriteResult::written);
    EXPECT_TRUE(S_ISREG(status("a.network").st_mode));
    EXPECT_EQ(read("target"), "precious\n");
}

TEST_F(GeneratorFiles, AWriteFailureNamesTheFile) {
    try {
        writeFileAtomically(dir() / "missing", "a.network", "x");
        FAIL() << "no exception";
    } catch (const std::system_error& error) {
        EXPECT_NE(std::string(error.what()).find((dir() / "missing" / "a.network").string()),
                  std::string::npos)
            << error.what();
    }
}

TEST_F(GeneratorFiles, MakesMissingFolders) {
    makeDirectories(dir() / "run" / "systemd" / "network");
    EXPECT_TRUE(fs::is_directory(dir() / "run" / "systemd" / "network"));
    makeDirectories(dir() / "run" / "systemd" / "network"); // already there: fine
}

TEST_F(GeneratorFiles, RemovesOnlyStaleOwnedFiles) {
    for (const char* name :
         {"60-vpnsteer-old.netdev", "61-vpnsteer-old-bridge.network", "60-vpnsteer-us.network",
          "50-uplink.network", "README-vpnsteer-notes.txt"})
        put(name, "x\n");
    fs::create_directory(dir() / "60-vpnsteer-folder.network");

    Removal removal = removeStaleFiles(dir(), {"60-vpnsteer-us.network"});
    EXPECT_TRUE(removal.errors.empty());
    EXPECT_EQ(removal.removed, (std::vector<std::string>{"60-vpnsteer-old.netdev",
                                                         "61-vpnsteer-old-bridge.network"}));
    EXPECT_EQ(listDirectory(dir()),
              (std::vector<std::string>{"50-uplink.network", "60-vpnsteer-folder.network",
                                        "60-vpnsteer-us.network", "README-vpnsteer-notes.txt"}));
}

TEST_F(GeneratorFiles, AMissingNetworkFolderHasNothingStale) {
    Removal removal = removeStaleFiles(dir() / "missing", {});
    EXPECT_TRUE(removal.removed.empty());
    EXPECT_TRUE(removal.errors.empty());
    EXPECT_TRUE(listDirectory(dir() / "missing").empty());
}

TEST_F(GeneratorFiles, ReadsTheSpecOrReportsItMissing) {
    put("vpns.json", "{}\n");
    EXPECT_EQ(readRegularFile(dir() / "vpns.json"), "{}\n");
    EXPECT_EQ(readRegularFile(dir() / "none.json"), std::nullopt);
    EXPECT_THROW(readRegularFile(dir()), std::runtime_error);
}

TEST_F(GeneratorFiles, NeverBlocksOnAFifo) {
    // Without O_NONBLOCK this open would wait for a writer forever.
    ASSERT_EQ(::mkfifo((dir() / "vpns.json").c_str(), 0600), 0);
    EXPECT_THROW(readRegularFile(dir() / "vpns.json"), std::runtime_error);
}

TEST(GeneratorKernel, FindsWireguardInTheModuleIndex) {
    EXPECT_TRUE(moduleIndexListsWireguard(
        "kernel/net/ipv4/udp_tunnel.ko:\n"
        "kernel/drivers/net/wireguard/wireguard.ko: kernel/net/ipv4/udp_tunnel.ko\n"));
    EXPECT_TRUE(moduleIndexListsWireguard("kernel/drivers/net/wireguard/wireguard.ko.xz: a.ko\n"));
    EXPECT_TRUE(moduleIndexListsWireguard("kernel/drivers/net/wireguard/wireguard.ko\n"));
    EXPECT_FALSE(moduleIndexListsWireguard("kernel/drivers/net/tun.ko:\n"));
    EXPECT_FALSE(moduleIndexListsWireguard("kernel/a.ko: kernel/notwireguard.ko\n"));
    EXPECT_FALSE(moduleIndexListsWireguard("kernel/drivers/net/wireguard/wireguard.kox:\n"));
    EXPECT_FALSE(moduleIndexListsWireguard(""));
}
