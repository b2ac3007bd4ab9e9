# Evaluates nix/package.nix with nixpkgs' lib and stand-ins for stdenv and the dependencies,
# for tests/nix/run.sh `package`: nothing is built, but what the build would be given is
# checked.
#
#   nix-instantiate --eval --strict --json tests/nix/package-eval.nix --argstr lib /path/to/nixpkgs/lib
#
# Evaluates to true or fails naming the first thing that is wrong.
{ lib }:
let
  nixpkgsLib = import (/. + lib);
  root = ../..;
  dependency = name: {
    inherit name;
    outPath = "/nix/store/00000000000000000000000000000000-${name}";
  };
  derivation = import (root + "/nix/package.nix") (
    {
      lib = nixpkgsLib;
      # mkDerivation hands back what it was given.
      stdenv = {
        mkDerivation = attrs: attrs;
        buildPlatform.canExecute = _: true;
        hostPlatform = { };
      };
    }
    // builtins.listToAttrs (
      map
        (name: {
          inherit name;
          value = dependency name;
        })
        [
          "cmake"
          "pkg-config"
          "sdbus-cpp"
          "systemdLibs"
          "libnl"
          "nlohmann_json"
          "iptables"
          "libsodium"
          "gtest"
          "groff"
          "wireguard-go"
          "fastd"
        ]
    )
  );

  out = builtins.placeholder "out";
  # -DNAME:TYPE=VALUE -> { NAME = VALUE; }
  flags = builtins.listToAttrs (
    map (
      flag:
      let
        parts = builtins.match "-D([A-Z_]+):[A-Z]+=(.*)" flag;
      in
      {
        name = builtins.elemAt parts 0;
        value = builtins.elemAt parts 1;
      }
    ) derivation.cmakeFlags
  );
  wantedFolders = {
    SYSTEMD_GENERATOR_DIR = "${out}/lib/systemd/system-generators";
    SYSTEMD_UNIT_DIR = "${out}/lib/systemd/system";
    SYSTEMD_NETWORKD_CONF_DIR = "${out}/lib/systemd/networkd.conf.d";
    SYSTEMD_SYSUSERS_DIR = "${out}/lib/sysusers.d";
    SYSTEMD_TMPFILES_DIR = "${out}/lib/tmpfiles.d";
    DBUS_SYSTEM_POLICY_DIR = "${out}/share/dbus-1/system.d";
    DBUS_SYSTEM_SERVICES_DIR = "${out}/share/dbus-1/system-services";
  };
  wrongFolders = builtins.filter (name: (flags.${name} or null) != wantedFolders.${name}) (
    builtins.attrNames wantedFolders
  );

  cmakeVersion = builtins.head (
    builtins.match ".*project\\(vpnsteer VERSION ([0-9.]+).*" (builtins.readFile (root + "/CMakeLists.txt"))
  );
  inputs = map (input: input.name) (derivation.nativeBuildInputs ++ derivation.buildInputs);

  keeps = path: type: derivation.src.filter (toString root + path) type;

  require = condition: message: condition || throw "nix/package.nix: ${message}";
in
require (wrongFolders == [ ]) "install folders not below $out: ${builtins.concatStringsSep ", " wrongFolders}"
&& require (
  flags.VPNSTEER_WIREGUARD_GO_PATH == "${dependency "wireguard-go"}/bin/wireguard-go"
) "the generated units would not find wireguard-go"
&& require (flags.VPNSTEER_BUILD_TESTS == "TRUE") "the tests are not built although they run"
&& require (derivation.version == cmakeVersion) "version ${derivation.version} is not CMakeLists.txt's ${cmakeVersion}"
&& require (builtins.all (name: builtins.elem name inputs) [
  "cmake"
  "pkg-config"
  "sdbus-cpp"
  "systemdLibs"
  "libnl"
  "nlohmann_json"
  "iptables"
  "libsodium"
]) "a dependency is missing from the build inputs"
&& require (map (input: input.name) derivation.checkInputs == [ "gtest" ]) "GoogleTest is not a check input"
&& require (map (input: input.name) derivation.nativeCheckInputs == [ "groff" ]) "groff (the man page lint of tests/docs) is not a native check input"
&& require (
  keeps "/CMakeLists.txt" "regular" && keeps "/core" "directory" && keeps "/tests" "directory"
) "the source leaves out what the build needs"
&& require (
  !(keeps "/build-x" "directory" || keeps "/nix" "directory" || keeps "/flake.nix" "regular")
) "the source includes build folders or the Nix files (changing the module would rebuild the package)"
