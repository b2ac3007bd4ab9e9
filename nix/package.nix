# vpnsteer for nixpkgs, in callPackage style:
#   pkgs.callPackage ./nix/package.nix { }
# (flake.nix and its overlay do this.)
{
  lib,
  stdenv,
  cmake,
  pkg-config,
  sdbus-cpp, # 1.x: vpnsteer is written against the sdbus-c++ 1 API (sdbus-cpp_2 is 2.x)
  systemdLibs,
  libnl,
  nlohmann_json,
  iptables,
  libsodium,
  gtest,
  groff,
  wireguard-go,
  fastd,
  # The unit tests run in the build; the network-namespace tests need root and run
  # elsewhere (scripts/run-tests).
  doCheck ? stdenv.buildPlatform.canExecute stdenv.hostPlatform,
}:
let
  # The version is the one CMakeLists.txt's project() declares, so the two never differ.
  cmakeLists = builtins.readFile ../CMakeLists.txt;
  version = builtins.head (
    builtins.match ".*project\\(vpnsteer VERSION ([0-9.]+)[^)]*\\).*" cmakeLists
  );

  # The source without build folders, VCS data and the Nix files at the top (flake.nix,
  # nix/): editing the module must not rebuild the package.
  root = toString ../.;
  src = lib.cleanSourceWith {
    src = ../.;
    filter =
      path: type:
      let
        base = baseNameOf path;
        atTop = dirOf path == root;
      in
      lib.cleanSourceFilter path type
      && !(atTop && type == "directory" && (lib.hasPrefix "build" base || base == "nix"))
      && !(atTop && (lib.hasSuffix ".nix" base || base == "flake.lock"));
  };
in
stdenv.mkDerivation {
  pname = "vpnsteer";
  inherit version src doCheck;

  nativeBuildInputs = [
    cmake
    pkg-config
    sdbus-cpp # sdbus-c++-xml2cpp generates the D-Bus adaptors and proxies at build time
  ];

  buildInputs = [
    sdbus-cpp
    systemdLibs
    libnl
    nlohmann_json
    iptables # libiptc, libip4tc, libip6tc
    libsodium
  ];

  checkInputs = [ gtest ];
  # tests/docs lints the man pages with groff; without it that test would only skip.
  nativeCheckInputs = [ groff ];

  # Install folders are cache variables of CMakeLists.txt. Their defaults come from
  # systemd's and D-Bus's pkg-config files, which would point into those packages; on
  # NixOS everything lands in $out, and the module links it into place.
  cmakeFlags = [
    (lib.cmakeFeature "SYSTEMD_GENERATOR_DIR" "${placeholder "out"}/lib/systemd/system-generators")
    (lib.cmakeFeature "SYSTEMD_UNIT_DIR" "${placeholder "out"}/lib/systemd/system")
    (lib.cmakeFeature "SYSTEMD_NETWORKD_CONF_DIR" "${placeholder "out"}/lib/systemd/networkd.conf.d")
    (lib.cmakeFeature "SYSTEMD_SYSUSERS_DIR" "${placeholder "out"}/lib/sysusers.d")
    (lib.cmakeFeature "SYSTEMD_TMPFILES_DIR" "${placeholder "out"}/lib/tmpfiles.d")
    (lib.cmakeFeature "DBUS_SYSTEM_POLICY_DIR" "${placeholder "out"}/share/dbus-1/system.d")
    (lib.cmakeFeature "DBUS_SYSTEM_SERVICES_DIR" "${placeholder "out"}/share/dbus-1/system-services")
    # units/vpnsteer-wireguard-go@.service runs it by absolute path.
    (lib.cmakeFeature "VPNSTEER_WIREGUARD_GO_PATH" "${wireguard-go}/bin/wireguard-go")
    # The same for vpn-NAME-fastd.service.
    (lib.cmakeFeature "VPNSTEER_FASTD_PATH" "${fastd}/bin/fastd")
    (lib.cmakeBool "VPNSTEER_BUILD_TESTS" doCheck)
  ];

  # Unit, golden, invalid-spec and docs tests only: integration tests need root and network
  # namespaces, fuzzing is open-ended, and the nix checks need nix-instantiate.
  checkPhase = ''
    runHook preCheck
    ctest --output-on-failure -j $NIX_BUILD_CORES -LE '^(integration|fuzz|nix)$'
    runHook postCheck
  '';

  meta = {
    description = "VPNs that carry the whole host on demand and chosen applications always, leak-proof";
    longDescription = ''
      vpnsteer turns each declared VPN into systemd-networkd devices, its own routing
      table, a firewall mark and policy rules. `systemctl start vpn-NAME` sends all of the
      host's traffic through NAME with a kill switch; whatever sits on the bridge br-NAME
      always leaves through NAME. A systemd generator, the vpnsteerd D-Bus daemon and the
      vpnsteer CLI.
    '';
    mainProgram = "vpnsteer";
    platforms = lib.platforms.linux;
  };
}
