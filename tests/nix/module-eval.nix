# Evaluates nix/module.nix with the real NixOS module system (nixpkgs' lib.evalModules),
# for tests/nix/run.sh `module`. Only lib is needed, not nixpkgs' packages or NixOS's own
# modules: the options the module sets outside services.vpnsteer are declared here as
# free-form stand-ins, and pkgs is a stand-in whose store paths are hashes of their
# contents.
#
#   nix-instantiate --eval --strict --json tests/nix/module-eval.nix \
#     --argstr lib /path/to/nixpkgs/lib --argstr casePath /abs/case.nix -A spec|verdict
#
# `spec` is config.services.vpnsteer.spec. `verdict` is true, or fails naming the first
# thing that is wrong with what the module sets (see `requirements` below).
{
  lib,
  casePath,
  checkOutput ? null,
}:
let
  nixpkgsLib = import (/. + lib);
  inherit (nixpkgsLib) mkOption types;

  case = import (/. + casePath);
  bare = import ./eval.nix { inherit casePath; };

  fakeStorePath =
    name: content:
    "/nix/store/${builtins.substring 0 32 (builtins.hashString "sha256" content)}-${name}";
  package = {
    type = "derivation";
    name = "vpnsteer-0.1.0";
    outPath = fakeStorePath "vpnsteer-0.1.0" "vpnsteer";
  };
  systemdPackage = {
    type = "derivation";
    name = "systemd";
    outPath = fakeStorePath "systemd" "systemd";
  };
  pkgs = {
    vpnsteer = package;
    writeText = name: text: fakeStorePath name text;
    runCommandLocal = name: env: script: fakeStorePath name (builtins.toJSON env + script);
  };

  # The NixOS options nix/module.nix sets, as free-form values.
  freeForm = mkOption {
    type = types.anything;
    default = { };
  };
  stubs = {
    options = {
      assertions = mkOption {
        type = types.listOf types.unspecified;
        default = [ ];
      };
      environment = freeForm;
      systemd = mkOption {
        type = types.submodule {
          freeformType = types.attrsOf types.anything;
          options.package = mkOption { default = systemdPackage; };
        };
        default = { };
      };
      users = freeForm;
      networking = freeForm;
      security = freeForm;
      services.dbus = freeForm;
      services.resolved = freeForm;
    };
  };

  evaluateModules =
    options:
    nixpkgsLib.evalModules {
      modules = [
        ../../nix/module.nix
        stubs
        { services.vpnsteer = options // { enable = true; }; }
      ];
      specialArgs = { inherit pkgs; };
    };
  evaluate = options: (evaluateModules options).config;

  config = evaluate case;
  # What the NixOS manual would show: every option's description, type and default text
  # must evaluate.
  optionDocs = nixpkgsLib.optionAttrSetToDocList (evaluateModules case).options.services.vpnsteer;
  docsRender = builtins.all (
    option:
    builtins.deepSeq [
      option.description
      option.type
      (option.default or null)
    ] true
  ) optionDocs;
  # The same system with one more VPN: a changed spec.
  changed = evaluate (
    case
    // {
      vpns = (case.vpns or { }) // {
        extra99 = {
          id = 99;
          endpoint = "192.0.2.99:51820";
          publicKey = "CnrPRVkev5/drZpq2Dg9CF+uTER3SaxTN1yPQEkxdEs=";
          addrV4 = "198.51.100.99";
          privateKeyFile = "/etc/vpnsteer/extra99.key";
        };
      };
    }
  );

  cfg = config.services.vpnsteer;
  specFile = config.environment.etc."vpnsteer/vpns.json".source;
  services = config.systemd.services;
  withoutTriggers = unit: builtins.removeAttrs unit [ "reloadTriggers" ];

  byId = builtins.sort (a: b: a.id < b.id) (builtins.attrValues cfg.vpns);
  summary = builtins.concatStringsSep "\n" (
    map (
      vpn:
      "${vpn.name}: id ${toString vpn.id}, table ${toString vpn.table}, fwmark ${toString vpn.fwmark}, "
      + "bridge ${vpn.bridgeDevice} ${vpn.bridgeAddrV4}, protocol ${vpn.protocol}"
    ) byId
  );
  numbersOk = builtins.all (
    vpn:
    vpn.fwmark == vpn.id + 10000
    && vpn.priorityMain == vpn.id + 100
    && vpn.priorityWgTable == vpn.id + 200
    && vpn.priorityFwMark == vpn.id + 300
    && vpn.isDefault == (vpn.name == (builtins.head byId).name)
  ) byId;

  failedAssertions = map (a: a.message) (builtins.filter (a: !a.assertion) config.assertions);

  requirements = [
    {
      ok = docsRender && builtins.length optionDocs > 40;
      what = "the option documentation does not render";
    }
    {
      ok = failedAssertions == [ ];
      what = "assertions fail: ${builtins.concatStringsSep "; " failedAssertions}";
    }
    {
      ok = cfg.spec == bare.withModuleDefaults;
      what = "config.services.vpnsteer.spec differs from nix/spec.nix on the defaults of nix/defaults.nix: ${builtins.toJSON cfg.spec}";
    }
    {
      ok = checkOutput == null || summary == checkOutput;
      what = "the read-only options give ${summary}, vpnsteer check says ${toString checkOutput}";
    }
    {
      ok = numbersOk;
      what = "fwmark, the priorities or isDefault are not the original module's";
    }
    {
      ok = builtins.match "/nix/store/.*-vpns.json" specFile != null;
      what = "/etc/vpnsteer/vpns.json is not the checked spec file: ${toString specFile}";
    }
    {
      ok = services.vpnsteerd.reloadTriggers == [ specFile ];
      what = "vpnsteerd is not reloaded when the spec changes";
    }
    {
      ok = services.systemd-networkd.reloadTriggers == [ specFile ];
      what = "systemd-networkd is not reloaded when the spec changes";
    }
    {
      ok =
        changed.systemd.services.vpnsteerd.reloadTriggers != services.vpnsteerd.reloadTriggers
        && withoutTriggers changed.systemd.services.vpnsteerd == withoutTriggers services.vpnsteerd;
      what = "a spec change alters vpnsteerd's unit beyond its reload trigger, which would restart it";
    }
    {
      ok = builtins.attrNames changed.systemd.services == builtins.attrNames services;
      what = "a new VPN adds units to systemd.services; vpn-NAME.service must come from the generator only";
    }
    {
      ok =
        services.vpnsteerd.serviceConfig.ExecReload == [
          ""
          "${systemdPackage}/bin/busctl call org.vpnsteer1 /org/vpnsteer1 org.vpnsteer1.Manager Reload"
        ];
      what = "vpnsteerd's reload is not the synchronous Reload call";
    }
    {
      ok = !(services.vpnsteerd ? restartTriggers) && (services.vpnsteerd.stopIfChanged or true) == false;
      what = "vpnsteerd must have no restart triggers and stopIfChanged = false";
    }
    {
      ok = builtins.all (name: builtins.match "vpn-.*" name == null) (builtins.attrNames services);
      what = "the module declares vpn-NAME units; switch-to-configuration would restart them";
    }
    {
      ok =
        config.systemd.generators.vpnsteer-generator
        == "${package}/lib/systemd/system-generators/vpnsteer-generator";
      what = "the generator is not linked into /etc/systemd/system-generators";
    }
    {
      ok =
        builtins.elem package config.systemd.packages && builtins.elem package config.services.dbus.packages;
      what = "the package's units or D-Bus files are not registered";
    }
    {
      ok =
        config.systemd.network.enable == true
        && config.systemd.network.config.networkConfig.ManageForeignRoutingPolicyRules == false;
      what = "systemd-networkd is not enabled, or would delete vpnsteerd's rules";
    }
    {
      ok = config.users.groups ? vpnsteer && config.users.groups ? vpnsteer-wan;
      what = "the groups vpnsteer and vpnsteer-wan are not created";
    }
    {
      ok = builtins.any (
        rule:
        rule.groups == [ "vpnsteer" ]
        && builtins.any (
          command: command.command == "${package}/bin/vpnsteer exec *" && command.options == [ "NOPASSWD" ]
        ) rule.commands
      ) config.security.sudo.extraRules;
      what = "members of vpnsteer may not run `sudo vpnsteer exec`";
    }
    {
      ok = config.networking.firewall.checkReversePath == "loose";
      what = "reverse-path filtering is not loose";
    }
  ];
  firstFailure = builtins.filter (requirement: !requirement.ok) requirements;
in
{
  inherit (cfg) spec;
  verdict =
    if firstFailure == [ ] then
      true
    else
      throw "nix/module.nix: ${(builtins.head firstFailure).what}";
}
