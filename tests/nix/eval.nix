# What tests/nix/run.sh evaluates, with nothing but builtins (no nixpkgs):
#
#   nix-instantiate --eval --strict --json tests/nix/eval.nix --argstr casePath /abs/case.nix -A ATTR
#
# The case file holds services.vpnsteer option values as a person writes them. Nix is also
# the JSON oracle here: it compares documents as values (key order and white space do not
# matter, list order does), so the checks need neither python nor jq.
#
# Values:
#   asWritten           nix/spec.nix on the case as written
#   withModuleDefaults  nix/spec.nix on what the module hands over: the option defaults
#                       of nix/defaults.nix filled in, every unset option null, the
#                       read-only values present (spec.nix must drop them)
# Verdicts (true, or an evaluation error that shows both sides):
#   sameDocument        the JSON files actualPath and expectedPath hold the same value
#   summaryMatches      checkOutput (what `vpnsteer check` printed) is what the module's
#                       read-only numbers from nix/defaults.nix say, line for line
#   problemsMatch       nix/checks.nix reports exactly the lines of expectedPath (no file:
#                       no problems at all)
{
  casePath,
  actualPath ? null,
  expectedPath ? null,
  checkOutput ? null,
}:
let
  case = import (/. + casePath);
  nixDir = ../../nix;
  renderSpec = import (nixDir + "/spec.nix");
  checks = import (nixDir + "/checks.nix");
  defaults = import (nixDir + "/defaults.nix");

  vpns = case.vpns or { };

  # The options of nix/module.nix that default to null (unset), per VPN and per peer.
  unsetVpn = builtins.listToAttrs (
    map
      (name: {
        inherit name;
        value = null;
      })
      [
        "endpoint"
        "publicKey"
        "privateKeyFile"
        "addrV6"
        "implementation"
        "peers"
        "presharedKeyFile"
        "persistentKeepalive"
        "secretFile"
        "methods"
        "mtu"
        "configurable"
        "transportMode"
      ]
  );
  unsetPeer = {
    name = null;
    publicKey = null;
    endpoint = null;
    presharedKeyFile = null;
    persistentKeepalive = null;
    key = null;
    remotes = null;
  };

  moduleVpn =
    name: vpn:
    let
      given = unsetVpn // defaults.vpn name // vpn;
      id = given.id;
    in
    given
    // {
      inherit name;
      peers = if given.peers == null then null else map (peer: unsetPeer // peer) given.peers;
      fwmark = defaults.fwmark id;
      priorityMain = defaults.priorityMain id;
      priorityWgTable = defaults.priorityWgTable id;
      priorityFwMark = defaults.priorityFwMark id;
      isDefault = defaults.isDefault vpns id;
      table = defaults.table id;
      bridgeAddrV4 = defaults.bridgeAddrV4 id;
      unit = defaults.unit name;
    };

  wan = case.wan or { };
  moduleValues = {
    vpns = builtins.mapAttrs moduleVpn vpns;
    wan = {
      mark = wan.mark or defaults.wan.mark;
      dns = {
        listen = wan.dns.listen or defaults.wan.dns.listen;
        servers = wan.dns.servers or defaults.wan.dns.servers;
      };
    };
  };

  byId = builtins.sort (a: b: a.id < b.id) (builtins.attrValues moduleValues.vpns);
  # The line `vpnsteer check` prints for a VPN (cli/check.cpp).
  summaryLine =
    vpn:
    "${vpn.name}: id ${toString vpn.id}, table ${toString vpn.table}, fwmark ${toString vpn.fwmark}, "
    + "bridge ${vpn.bridgeDevice} ${vpn.bridgeAddrV4}, protocol ${vpn.protocol}";
  summary = builtins.concatStringsSep "\n" (map summaryLine byId);
  # check prints the VPNs in id order, so the first is the default one.
  defaultVpns = map (vpn: vpn.name) (builtins.filter (vpn: vpn.isDefault) byId);

  problems = checks moduleValues;

  readJson = path: builtins.fromJSON (builtins.readFile (/. + path));
  # One field per line, so that two documents can be told apart by eye.
  show = value: builtins.replaceStrings [ ",\"" ] [ ",\n  \"" ] (builtins.toJSON value);
  verdict =
    what: ok: expected: actual:
    if ok then true else throw "${what}\n--- expected:\n${expected}\n--- actual:\n${actual}\n";
in
{
  asWritten = renderSpec case;
  withModuleDefaults = renderSpec moduleValues;

  sameDocument =
    let
      expected = readJson expectedPath;
      actual = readJson actualPath;
    in
    verdict "${actualPath} is not the same JSON document as ${expectedPath}" (expected == actual) (
      show expected
    ) (show actual);

  summaryMatches =
    verdict "the module's read-only numbers differ from what `vpnsteer check` derives" (
      summary == checkOutput && defaultVpns == [ (builtins.head byId).name ]
    ) checkOutput "${summary}\n(default VPN: ${builtins.concatStringsSep ", " defaultVpns})";

  problemsMatch =
    let
      expected = if expectedPath == null then "" else builtins.readFile (/. + expectedPath);
      actual = builtins.concatStringsSep "" (map (line: line + "\n") problems);
    in
    verdict "nix/checks.nix reports other problems than expected" (expected == actual) expected actual;
}
