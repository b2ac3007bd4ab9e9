# Checks the shape of flake.nix without nixpkgs and without the network (nix 2.8 cannot
# lock the flake's inputs here): its outputs function is called with a stand-in for the
# nixpkgs input whose callPackage records what it was given.
#
#   nix-instantiate --eval --strict --json tests/nix/flake-outputs.nix --argstr src /abs/source
#
# Evaluates to true, or fails with the first thing that is wrong. What is checked:
# - packages.<system>.default for each Linux system, built by callPackage from
#   nix/package.nix, which takes every dependency issue 9 names;
# - overlays.default adds `vpnsteer`, built the same way;
# - nixosModules.default is nix/module.nix, a module function taking config, lib and pkgs;
# - the nixpkgs input is declared.
{ src }:
let
  root = /. + src;
  flake = import (root + "/flake.nix");
  packageFile = root + "/nix/package.nix";
  moduleFile = root + "/nix/module.nix";

  # What callPackage receives, kept instead of built.
  callPackage = file: overrides: {
    calledWith = file;
    inherit overrides;
  };
  nixpkgs = {
    legacyPackages = builtins.listToAttrs (
      map
        (system: {
          name = system;
          value = {
            inherit callPackage;
          };
        })
        [
          "x86_64-linux"
          "aarch64-linux"
        ]
    );
  };
  outputs = flake.outputs {
    inherit self nixpkgs;
  };
  self = outputs // {
    outPath = src;
  };

  require = condition: message: if condition then true else throw "flake.nix: ${message}";

  packageArgs = builtins.functionArgs (import packageFile);
  wantedArgs = [
    "stdenv"
    "cmake"
    "pkg-config"
    "sdbus-cpp"
    "systemdLibs"
    "libnl"
    "nlohmann_json"
    "iptables"
    "libsodium"
    "gtest"
  ];
  missingArgs = builtins.filter (arg: !(packageArgs ? ${arg})) wantedArgs;

  moduleArgs = builtins.functionArgs (import moduleFile);

  checkPackage =
    system:
    let
      package = outputs.packages.${system}.default or null;
    in
    require (package != null) "packages.${system}.default is missing"
    && require (package.calledWith == packageFile) "packages.${system}.default is not built from nix/package.nix";

  overlaid = outputs.overlays.default { inherit callPackage; } { };
in
require (flake ? inputs.nixpkgs.url) "the nixpkgs input is not declared"
&& require (builtins.isFunction flake.outputs) "outputs is not a function"
&& builtins.all checkPackage [
  "x86_64-linux"
  "aarch64-linux"
]
&& require (
  missingArgs == [ ]
) "nix/package.nix does not take ${builtins.concatStringsSep ", " missingArgs}"
&& require (overlaid ? vpnsteer) "overlays.default does not add vpnsteer"
&& require (
  overlaid.vpnsteer.calledWith == packageFile
) "overlays.default does not build vpnsteer from nix/package.nix"
&& require (outputs.nixosModules.default == moduleFile) "nixosModules.default is not nix/module.nix"
&& require (
  moduleArgs ? config && moduleArgs ? lib && moduleArgs ? pkgs
) "nix/module.nix is not a module function of config, lib and pkgs"
