# services.vpnsteer option values -> the vpnsteer spec, version 1 (docs/spec.md), as a
# value that builtins.toJSON turns into /etc/vpnsteer/vpns.json.
#
#   import ./spec.nix { vpns = config.services.vpnsteer.vpns; wan = config.services.vpnsteer.wan; }
#
# Pure and builtins only, so tests/nix can evaluate it with a bare nix-instantiate and no
# nixpkgs. It maps; it does not validate or fill in defaults: vpnsteer applies the
# defaults of docs/spec.md to whatever is left out, and `vpnsteer check` (run on the result
# when the system is built) reports every problem in the words the generator and
# vpnsteerd use.
#
# Rules:
# - Only the spec's own fields are copied. The module's read-only values (name, fwmark,
#   the priorities, isDefault...) and anything else are left out.
# - A field that is absent or null is left out, so "not set" means "the spec's default".
# - Nix paths become strings without being copied into the store: a private key given as
#   `./wg.key` must stay a file on the machine, not a world-readable store path.
{
  vpns ? { },
  wan ? { },
}:
let
  vpnFields = [
    "id"
    "protocol"
    "implementation"
    "addrV4"
    "addrV6"
    "dns"
    "bridgeDevice"
    # WireGuard, single-peer form (the original module's), or peers
    "privateKeyFile"
    "endpoint"
    "publicKey"
    "presharedKeyFile"
    "persistentKeepalive"
    "peers"
    "failover"
    # fastd
    "secretFile"
    "methods"
    "mtu"
    "configurable"
    "transportMode"
  ];

  # WireGuard peers and fastd peers share the list; each keeps the fields it has.
  peerFields = [
    "name"
    "publicKey"
    "endpoint"
    "presharedKeyFile"
    "persistentKeepalive"
    "key"
    "remotes"
  ];

  isSet = attrs: field: attrs ? ${field} && attrs.${field} != null;

  # toString of a path gives its absolute name; builtins.toJSON of a path would copy the
  # file into the store instead.
  plain = value: if builtins.isPath value then toString value else value;

  pick =
    fields: convert: attrs:
    builtins.listToAttrs (
      map (field: {
        name = field;
        value = convert field attrs.${field};
      }) (builtins.filter (isSet attrs) fields)
    );

  peer = pick peerFields (field: value: if field == "remotes" then map plain value else plain value);

  failover = pick [ "handshakeTimeout" "silenceTimeout" "probeInterval" ] (field: value: value);

  vpn = pick vpnFields (
    field: value:
    if field == "peers" then
      map peer value
    else if field == "failover" then
      failover value
    else
      plain value
  );

  wanDns = pick [ "listen" "servers" ] (field: value: value);

  wanSection =
    let
      mark = if isSet wan "mark" then { inherit (wan) mark; } else { };
      dns = if isSet wan "dns" then wanDns wan.dns else { };
    in
    mark // (if dns == { } then { } else { inherit dns; });
in
{
  version = 1;
  vpns = builtins.mapAttrs (name: vpn) vpns;
}
// (if wanSection == { } then { } else { wan = wanSection; })
