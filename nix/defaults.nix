# The defaults and derived numbers of services.vpnsteer, in one place that needs only
# builtins: nix/module.nix takes its option defaults and read-only values from here, and
# tests/nix evaluates the same file with a bare nix-instantiate (no nixpkgs) and checks it
# against `vpnsteer check`, so the module and core/spec.hpp cannot drift apart.
#
# Every value is the one docs/spec.md gives, and the numbers are the original sane.vpn
# module's (DESIGN.md, "Numbers derived from a VPN's id").
rec {
  # The original module's default resolvers, kept so that porting a config is a rename.
  dns = [
    "46.227.67.134"
    "192.165.9.158"
  ];

  protocol = "wireguard";

  bridgeDevice = name: "br-${name}";

  # The option defaults of one VPN, by option name.
  vpn = name: {
    inherit dns protocol;
    bridgeDevice = bridgeDevice name;
  };

  # What vpnsteer assumes for fields that belong to one protocol only. The module leaves
  # these options null when unset (it cannot write them for every VPN: a fastd field on a
  # WireGuard VPN is an error) and quotes these values in their descriptions.
  implementation = "auto";
  fastd = {
    methods = [ "salsa2012+umac" ];
    mtu = 1406;
    configurable = false;
    transportMode = "secure";
  };

  wan = {
    mark = 10000;
    dns = {
      listen = [
        "127.0.0.1:54"
        "[::1]:54"
      ];
      # Empty: the uplink's resolvers, as systemd-resolved knows them.
      servers = [ ];
    };
  };

  # Derived from the id; read-only options of each VPN.
  fwmark = id: id + 10000;
  table = id: id;
  priorityMain = id: id + 100; # lookup main suppress_prefixlength 0
  priorityWgTable = id: id + 200; # from 10.20.ID.0/24 lookup ID (the bridge)
  priorityFwMark = id: id + 300; # not fwmark MARK lookup ID (system-wide)
  bridgeAddrV4 = id: "10.20.${toString id}.1/24";
  unit = name: "vpn-${name}.service";

  # The default VPN is the one with the lowest id (ties cannot pass the module's
  # unique-id assertion).
  isDefault = vpns: id: builtins.all (other: id <= other.id) (builtins.attrValues vpns);
}
