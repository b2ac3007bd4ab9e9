# services.vpnsteer: the NixOS module (docs/nixos.md).
#
# The per-VPN options keep the names and types of the original sane.vpn module, so porting
# a configuration is a rename (sane.vpn.NAME.X -> services.vpnsteer.vpns.NAME.X). The
# module itself does little: it writes /etc/vpnsteer/vpns.json (through the pure
# nix/spec.nix) and installs the package's generator, units and D-Bus files. The generator
# turns the spec into networkd files, vpn-NAME.service units and systemd-timesyncd's drop-in
# on every boot and every daemon-reload, and vpnsteerd keeps the rules; neither depends on
# NixOS.
#
# How a spec change reaches the running system (switch-to-configuration):
# - The spec lives at the fixed path /etc/vpnsteer/vpns.json, which no unit names, so a
#   changed spec changes no unit file and restarts nothing.
# - switch-to-configuration always runs `systemctl daemon-reload`, after the activation
#   script has put the new /etc in place: the generator reruns on the new spec.
# - The spec's store path is a reload trigger of systemd-networkd (it picks up the new
#   files in /run/systemd/network) and of vpnsteerd (it reads the new spec and keeps every
#   VPN that is still in it as it was, system-wide included). A reload-trigger-only change
#   is reloaded, never restarted.
# - vpn-NAME.service units come from the generator (/run/systemd/generator), not from
#   /etc/systemd/system, so switch-to-configuration never restarts them.
{
  config,
  lib,
  pkgs,
  ...
}:
let
  inherit (lib)
    literalExpression
    mkDefault
    mkEnableOption
    mkIf
    mkOption
    types
    ;

  cfg = config.services.vpnsteer;
  defaults = import ./defaults.nix;
  renderSpec = import ./spec.nix;
  specProblems = import ./checks.nix;

  # Key files are read at run time from the machine, never from the store: a path is
  # turned into its name by nix/spec.nix, not copied (a private key in the world-readable
  # store would be readable by every user).
  keyFile = types.either types.str types.path;

  # A value derived from the id (or name), as the original module had them: readable by
  # other modules (e.g. a container's firewall rule using fwmark), never set.
  readOnlyValue =
    type: formula: description: value:
    mkOption {
      inherit type description;
      readOnly = true;
      default = value;
      defaultText = literalExpression formula;
    };

  peerOptions = {
    options = {
      name = mkOption {
        type = types.nullOr types.str;
        default = null;
        description = ''
          Label of the peer (shown on D-Bus and by `vpnsteer status`). WireGuard: null
          means `peerN`, N being its position. fastd: required.
        '';
      };
      publicKey = mkOption {
        type = types.nullOr types.str;
        default = null;
        description = "WireGuard: the peer's public key (base64 of 32 bytes).";
      };
      endpoint = mkOption {
        type = types.nullOr types.str;
        default = null;
        example = "vpn.example.net:51820";
        description = "WireGuard: `host:port` or `[IPv6]:port` of the peer.";
      };
      presharedKeyFile = mkOption {
        type = types.nullOr keyFile;
        default = null;
        description = "WireGuard: file holding the preshared key for this peer.";
      };
      persistentKeepalive = mkOption {
        type = types.nullOr (types.ints.between 1 65535);
        default = null;
        description = "WireGuard: keepalive interval in seconds; null: none.";
      };
      key = mkOption {
        type = types.nullOr types.str;
        default = null;
        description = "fastd: the peer's public key (64 hex digits).";
      };
      remotes = mkOption {
        type = types.nullOr (types.listOf types.str);
        default = null;
        example = [ "gw1.example.net:10000" ];
        description = "fastd: the peer's addresses, `host:port` or `[IPv6]:port`.";
      };
    };
  };

  vpnOptions =
    { name, config, ... }:
    {
      options = {
        # --- the original sane.vpn options, same names and types ---
        name = mkOption {
          type = types.str;
          readOnly = true;
          default = name;
          defaultText = literalExpression "<name>";
          description = ''
            The attribute name, which is also the tunnel's interface name and names
            `vpn-NAME.service`. 1..15 bytes of letters, digits, `_`, `-` and `.`.
          '';
        };
        id = mkOption {
          type = types.ints.between 1 99;
          description = ''
            Unique number of this VPN; its routing table, firewall mark, rule priorities
            and bridge subnet derive from it. The lowest id is the default VPN.
          '';
        };
        fwmark = readOnlyValue types.int "id + 10000" "Firewall mark of the tunnel's own packets: id + 10000." (
          defaults.fwmark config.id
        );
        priorityMain = readOnlyValue types.int "id + 100" "Priority of the rule `lookup main suppress_prefixlength 0` (LAN stays local while system-wide): id + 100." (
          defaults.priorityMain config.id
        );
        priorityWgTable = readOnlyValue types.int "id + 200" "Priority of the rule `from 10.20.ID.0/24 lookup ID` (the bridge): id + 200." (
          defaults.priorityWgTable config.id
        );
        priorityFwMark = readOnlyValue types.int "id + 300" "Priority of the rule `not fwmark MARK lookup ID` (system-wide): id + 300." (
          defaults.priorityFwMark config.id
        );
        isDefault = readOnlyValue types.bool "the lowest id of all" "Whether this VPN has the lowest id of all." (
          defaults.isDefault cfg.vpns config.id
        );
        endpoint = mkOption {
          type = types.nullOr types.str;
          default = null;
          example = "vpn.example.net:51820";
          description = ''
            WireGuard, single-peer form (the original module's): `host:port` or
            `[IPv6]:port` of the server. Host names are resolved over the uplink.
            Set this and `publicKey`, or `peers`.
          '';
        };
        publicKey = mkOption {
          type = types.nullOr types.str;
          default = null;
          description = "WireGuard, single-peer form: the server's public key.";
        };
        addrV4 = mkOption {
          type = types.str;
          example = "198.51.100.2";
          description = ''
            This end's IPv4 address in the tunnel, with an optional `/prefix` (default
            /32). Preferred source of the table's default route and SNAT address of the
            bridge.
          '';
        };
        dns = mkOption {
          type = types.listOf types.str;
          default = defaults.dns;
          description = ''
            The VPN's DNS servers. While the VPN is system-wide, systemd-resolved sends
            every query to them.
          '';
        };
        bridgeDevice = mkOption {
          type = types.str;
          default = defaults.bridgeDevice name;
          defaultText = literalExpression ''"br-''${name}"'';
          description = ''
            The bridge whose traffic always leaves through this VPN (containers,
            namespaces, `vpnsteer exec`). It has the address 10.20.ID.1/24.
          '';
        };
        privateKeyFile = mkOption {
          type = types.nullOr keyFile;
          default = null;
          example = "/run/secrets/wg-home.key";
          description = ''
            WireGuard (required): this end's private key. systemd-networkd reads it as
            user systemd-network (e.g. owner root:systemd-network, mode 0640). A Nix
            path is used by its name and not copied into the store.
          '';
        };

        # --- read-only values beyond the original ---
        table = readOnlyValue types.int "id" "Routing table of the VPN: id." (defaults.table config.id);
        bridgeAddrV4 = readOnlyValue types.str ''"10.20.''${toString id}.1/24"'' "Address of the bridge: 10.20.ID.1/24." (
          defaults.bridgeAddrV4 config.id
        );
        unit = readOnlyValue types.str ''"vpn-''${name}.service"'' "The unit that makes this VPN system-wide: vpn-NAME.service." (
          defaults.unit name
        );

        # --- new options ---
        protocol = mkOption {
          type = types.enum [
            "wireguard"
            "fastd"
          ];
          default = defaults.protocol;
          description = "The tunnel protocol.";
        };
        addrV6 = mkOption {
          type = types.nullOr types.str;
          default = null;
          example = "2001:db8:1::2";
          description = ''
            This end's IPv6 address in the tunnel (default prefix /128). Without it, IPv6
            is blocked while the VPN is system-wide.
          '';
        };
        implementation = mkOption {
          type = types.nullOr (
            types.enum [
              "auto"
              "kernel"
              "userspace"
            ]
          );
          default = null;
          description = ''
            WireGuard: who provides the device: the kernel module (systemd-networkd creates
            it) or wireguard-go. null means "${defaults.implementation}": whichever the
            running kernel supports.
          '';
        };
        peers = mkOption {
          type = types.nullOr (types.listOf (types.submodule peerOptions));
          default = null;
          description = ''
            The general form: several gateways, one active at a time. WireGuard peers have
            `publicKey`, `endpoint` and optionally `name`, `presharedKeyFile`,
            `persistentKeepalive`; fastd peers have `name`, `key` and `remotes`.
            WireGuard: give either `peers` or `endpoint` and `publicKey`.
          '';
        };
        failover = mkOption {
          type = types.nullOr (
            types.submodule {
              options = {
                handshakeTimeout = mkOption {
                  type = types.nullOr (types.ints.between 2 600);
                  default = null;
                  description = "Seconds a new gateway has for its first handshake (default 8).";
                };
                silenceTimeout = mkOption {
                  type = types.nullOr (types.ints.between 2 600);
                  default = null;
                  description = "Seconds without an answer, while sending, after which a gateway is dead (default 15).";
                };
                probeInterval = mkOption {
                  type = types.nullOr (types.ints.between 1 300);
                  default = null;
                  description = "Seconds without an answer before vpnsteerd probes the tunnel (default 3).";
                };
              };
            }
          );
          default = null;
          description = ''
            WireGuard: how vpnsteerd judges the active gateway and fails over to the next
            (docs/gateways.md). null: the defaults for a VPN of several peers, no judging for one.
          '';
        };
        presharedKeyFile = mkOption {
          type = types.nullOr keyFile;
          default = null;
          description = "WireGuard, single-peer form: file holding the preshared key.";
        };
        persistentKeepalive = mkOption {
          type = types.nullOr (types.ints.between 1 65535);
          default = null;
          description = "WireGuard, single-peer form: keepalive interval in seconds.";
        };
        secretFile = mkOption {
          type = types.nullOr keyFile;
          default = null;
          description = "fastd (required): file with this end's `secret \"...\";` line.";
        };
        methods = mkOption {
          type = types.nullOr (
            types.listOf (
              types.enum [
                "salsa2012+umac"
                "null+salsa2012+umac"
                "null@l2tp"
                "null"
              ]
            )
          );
          default = null;
          description = "fastd: methods in order of preference; null means ${builtins.toJSON defaults.fastd.methods}.";
        };
        mtu = mkOption {
          type = types.nullOr (types.ints.between 1280 9000);
          default = null;
          description = "fastd: the tunnel MTU; null means ${toString defaults.fastd.mtu}.";
        };
        configurable = mkOption {
          type = types.nullOr types.bool;
          default = null;
          description = "fastd: whether `SetTransportMode` may change the methods; null means ${builtins.toJSON defaults.fastd.configurable}.";
        };
        transportMode = mkOption {
          type = types.nullOr (
            types.enum [
              "secure"
              "performance"
            ]
          );
          default = null;
          description = "fastd: the initial transport mode; null means \"${defaults.fastd.transportMode}\".";
        };
      };
    };

  spec = renderSpec { inherit (cfg) vpns wan; };

  # The file in the store. With checkSpec, `vpnsteer check` validates it while the system
  # is built, with the generator's own parser: a bad spec fails the build, never the boot.
  specFile =
    if cfg.checkSpec then
      pkgs.runCommandLocal "vpns.json"
        {
          nativeBuildInputs = [ cfg.package ];
          json = builtins.toJSON spec;
          passAsFile = [ "json" ];
        }
        ''
          vpnsteer check "$jsonPath"
          cp "$jsonPath" "$out"
        ''
    else
      pkgs.writeText "vpns.json" (builtins.toJSON spec);
in
{
  options.services.vpnsteer = {
    enable = mkEnableOption "vpnsteer: VPNs that are system-wide on demand, per application always";

    package = mkOption {
      type = types.package;
      default = pkgs.vpnsteer or (pkgs.callPackage ./package.nix { });
      defaultText = literalExpression "pkgs.vpnsteer";
      description = "The vpnsteer package (generator, vpnsteerd, CLI, units, D-Bus files).";
    };

    checkSpec = mkOption {
      type = types.bool;
      default = true;
      description = ''
        Run `vpnsteer check` on the generated spec while the system is built. Turn off
        only when the build machine cannot run the package (cross-compilation).
      '';
    };

    vpns = mkOption {
      type = types.attrsOf (types.submodule vpnOptions);
      default = { };
      example = literalExpression ''
        {
          home = {
            id = 1;
            endpoint = "vpn.home.example.net:51820";
            publicKey = "FtWSJ0KLwbAPJzkxebLdauJhR+4VbHA9y9FLcGpYb1s=";
            addrV4 = "198.51.100.2";
            privateKeyFile = "/run/secrets/wg-home.key";
          };
        }
      '';
      description = ''
        The VPNs, by name. `systemctl start vpn-NAME` makes NAME carry all of the
        host's internet traffic; its bridge always does.
      '';
    };

    wan = {
      mark = mkOption {
        type = types.ints.between 1 4294967295;
        default = defaults.wan.mark;
        description = ''
          Firewall mark of uplink-only traffic (the WAN DNS forwarder, `vpnsteer wan`,
          systemd-timesyncd).
          Not 10001..10099: those are the tunnels' marks.
        '';
      };
      dns.listen = mkOption {
        type = types.listOf types.str;
        default = defaults.wan.dns.listen;
        description = "Where the WAN DNS forwarder listens, as `IP[:port]` (port 54 by default).";
      };
      dns.servers = mkOption {
        type = types.listOf types.str;
        default = defaults.wan.dns.servers;
        example = [ "192.0.2.53" ];
        description = ''
          Static upstream resolvers of the WAN DNS forwarder, `IP[:port]`. Empty: the
          uplink's resolvers as systemd-resolved knows them.
        '';
      };
    };

    spec = mkOption {
      type = types.attrsOf types.anything;
      readOnly = true;
      default = spec;
      defaultText = "rendered from services.vpnsteer.vpns and .wan by nix/spec.nix";
      description = "The spec written to /etc/vpnsteer/vpns.json (read-only, for inspection).";
    };
  };

  config = mkIf cfg.enable {
    assertions = map (message: {
      assertion = false;
      inherit message;
    }) (specProblems { inherit (cfg) vpns wan; });

    environment.etc."vpnsteer/vpns.json".source = specFile;
    environment.systemPackages = [ cfg.package ];

    # The generator's .netdev and .network files are for systemd-networkd.
    systemd.network.enable = true;
    # vpnsteerd's policy rules are foreign to networkd, which would otherwise delete them
    # on every reconfiguration. The package ships the same setting as a networkd.conf
    # drop-in for other distributions; NixOS writes networkd.conf itself.
    systemd.network.config.networkConfig.ManageForeignRoutingPolicyRules = false;
    # DNS follows the system-wide VPN through systemd-resolved's per-link settings.
    services.resolved.enable = mkDefault true;

    systemd.packages = [ cfg.package ];
    services.dbus.packages = [ cfg.package ];
    # NixOS does not look into packages for generators; link it by hand.
    systemd.generators.vpnsteer-generator = "${cfg.package}/lib/systemd/system-generators/vpnsteer-generator";

    systemd.services.vpnsteerd = {
      wantedBy = [ "multi-user.target" ];
      # Reload, not restart, on a spec change: vpnsteerd keeps every VPN that is still in
      # the spec as it was (system-wide included) and drops only the ones that left.
      reloadTriggers = [ specFile ];
      # The Reload method rather than the unit's SIGHUP: the reload job (and so the switch)
      # ends only once vpnsteerd runs on the new spec, and a refused spec fails the job
      # instead of passing unnoticed. (The unit's /bin/kill does not exist on NixOS
      # either.) The empty entry drops the unit's own ExecReload=.
      serviceConfig.ExecReload = [
        ""
        "${config.systemd.package}/bin/busctl call org.vpnsteer1 /org/vpnsteer1 org.vpnsteer1.Manager Reload"
      ];
      # A changed package is a restart in one step after activation, not a stop before
      # it: stopping would take every system-wide VPN down for the whole activation.
      stopIfChanged = false;
    };
    systemd.services.systemd-networkd.reloadTriggers = [ specFile ];
    # The generator also writes systemd-timesyncd's drop-in (NTP and the lookups of NTP
    # server names through the uplink, with the WAN mark) into /run/systemd/generator, whose
    # drop-ins systemd merges with NixOS's own unit. A running timesyncd keeps the mark it
    # started with: a new mark restarts it.
    systemd.services.systemd-timesyncd = mkIf (config.services.timesyncd.enable or false) {
      restartTriggers = [ (toString cfg.wan.mark) ];
    };

    users.groups.vpnsteer = { }; # may call Up, Down, Switch and SetTransportMode (D-Bus policy)
    users.groups.vpnsteer-wan = { }; # processes in it resolve through the WAN DNS forwarder
    # `vpnsteer exec` needs root to make its namespace; members of vpnsteer get it for exec
    # alone, and the command runs as them again (docs/exec.md, units/sudoers-vpnsteer.in).
    security.sudo.extraRules = [
      {
        groups = [ "vpnsteer" ];
        commands = [
          {
            command = "${cfg.package}/bin/vpnsteer exec *";
            options = [ "NOPASSWD" ];
          }
        ];
      }
    ];

    # Replies to the bridges' SNATed traffic arrive on the tunnel, not on the interface a
    # strict reverse-path check expects.
    networking.firewall.checkReversePath = mkDefault "loose";
  };
}
