# The problems nix/module.nix reports as assertions, so that a bad services.vpnsteer
# fails `nixos-rebuild` at evaluation time, named by option path, before anything is built
# or switched.
#
#   import ./checks.nix { vpns = ...; wan = ...; }  ->  [ "services.vpnsteer.vpns.us.id: ..." ]
#
# It checks what needs the whole set of VPNs (unique ids and interface names), the names
# the kernel would refuse, and which fields belong to which protocol. Everything else
# (addresses, keys, endpoints) is left to `vpnsteer check`, which the module runs on the
# rendered spec when the system is built, so that those messages come from the same code
# as the generator's and vpnsteerd's.
#
# Builtins only, like nix/spec.nix, so tests/nix runs it without nixpkgs. It accepts the
# module's option values (null = not set) as well as bare attribute sets without the
# defaults filled in.
{
  vpns ? { },
  wan ? { },
}:
let
  defaults = import ./defaults.nix;

  # Attribute names come sorted, which is also the order builtins.toJSON writes them in:
  # "the VPN earlier in the file keeps it" (docs/spec.md) means the same VPN here.
  names = builtins.attrNames vpns;

  optionPath =
    name:
    "services.vpnsteer.vpns."
    + (if builtins.match "[A-Za-z0-9_-]+" name != null then name else builtins.toJSON name);
  at = name: field: "${optionPath name}.${field}";

  get = attrs: field: attrs.${field} or null;
  bridgeOf =
    name: vpn:
    let
      given = get vpn "bridgeDevice";
    in
    if given == null then defaults.bridgeDevice name else given;

  quote = builtins.toJSON;
  concatMap = f: list: builtins.concatLists (map f list);
  optional = condition: message: if condition then [ message ] else [ ];

  isReserved =
    name:
    builtins.elem name [
      "all"
      "default"
      "lo"
    ];

  # An interface name as vpnsteer accepts it (docs/spec.md): 1..15 bytes (the kernel's
  # IFNAMSIZ - 1) of a set that is also safe in unit, file and D-Bus object names.
  interfaceNameProblem =
    name:
    if name == "" then
      "must not be empty"
    else if builtins.match "[A-Za-z0-9_.-]+" name == null then
      "may contain only letters, digits, '_', '-' and '.', got ${quote name}"
    else if builtins.stringLength name > 15 then
      "must be at most 15 bytes, got ${quote name} (${toString (builtins.stringLength name)} bytes)"
    else if builtins.match "[A-Za-z0-9].*" name == null then
      "must start with a letter or digit, got ${quote name}"
    else if isReserved name then
      "${quote name} is reserved by the kernel"
    else
      null;

  nameProblems =
    name:
    let
      problem = interfaceNameProblem name;
    in
    if problem == null then
      [ ]
    else if isReserved name then
      [ "${optionPath name}: the VPN name ${quote name} is reserved by the kernel" ]
    else
      [ "${optionPath name}: the VPN name is its interface name and ${problem}" ];

  bridgeProblems =
    name: vpn:
    let
      bridge = bridgeOf name vpn;
      problem = interfaceNameProblem bridge;
      derived = bridge == defaults.bridgeDevice name;
      length = builtins.stringLength bridge;
    in
    # A VPN name that is itself bad has been reported; its derived bridge name adds nothing.
    if derived && interfaceNameProblem name != null then
      [ ]
    else if derived && length > 15 then
      [
        "${at name "bridgeDevice"}: the derived bridge name ${quote bridge} is ${toString length} bytes, at most 15; set bridgeDevice"
      ]
    else if problem != null then
      [ "${at name "bridgeDevice"}: the bridge name ${problem}" ]
    else
      optional (bridge == name) "${at name "bridgeDevice"}: must differ from the VPN's own interface name, got ${quote bridge}";

  # Ids and interface names must be unique; the VPN that sorts first keeps a contested one.
  collisionProblems =
    let
      step =
        state: name:
        let
          vpn = vpns.${name};
          id = get vpn "id";
          bridge = bridgeOf name vpn;
          idOwner = if id == null then null else state.ids.${toString id} or null;
          nameOwner = state.interfaces.${name} or null;
          bridgeOwner = state.interfaces.${bridge} or null;
          problems =
            optional (idOwner != null) "${at name "id"}: ${toString id} is already used by ${optionPath idOwner}"
            ++ optional (nameOwner != null) "${optionPath name}: interface name ${quote name} is already used by ${nameOwner}"
            ++ optional (bridgeOwner != null) "${at name "bridgeDevice"}: interface name ${quote bridge} is already used by ${bridgeOwner}";
        in
        {
          problems = state.problems ++ problems;
          ids = state.ids // (if id == null || idOwner != null then { } else { ${toString id} = name; });
          interfaces =
            state.interfaces
            // (
              if problems != [ ] then
                { }
              else
                # Two updates, not one set: a bridge named like its own VPN (reported
                # above) must not make this a duplicate attribute.
                { ${name} = optionPath name; } // { ${bridge} = at name "bridgeDevice"; }
            );
        };
    in
    (builtins.foldl' step {
      problems = [ ];
      ids = { };
      interfaces = { };
    } names).problems;

  wireguardOnly = [
    "implementation"
    "privateKeyFile"
    "endpoint"
    "publicKey"
    "presharedKeyFile"
    "persistentKeepalive"
  ];
  fastdOnly = [
    "secretFile"
    "methods"
    "mtu"
    "configurable"
    "transportMode"
  ];
  wireguardPeerOnly = [
    "publicKey"
    "endpoint"
    "presharedKeyFile"
    "persistentKeepalive"
  ];
  fastdPeerOnly = [
    "key"
    "remotes"
  ];

  # Fields that are set although they belong to the other protocol.
  foreign =
    path: attrs: fields: protocol:
    map (field: "${path}.${field}: is not a setting of ${protocol} VPNs") (
      builtins.filter (field: get attrs field != null) fields
    );
  missing =
    path: attrs: fields:
    map (field: "${path}.${field}: must be set") (
      builtins.filter (field: get attrs field == null) fields
    );

  protocolProblems =
    name: vpn:
    let
      protocol = if get vpn "protocol" == null then defaults.protocol else vpn.protocol;
      peers = get vpn "peers";
      # NixOS shows list elements as `peers.[0]`... in no consistent way; the JSON path is
      # what `vpnsteer check` prints, so use that form.
      peerPath = index: "${at name "peers"}[${toString index}]";
      eachPeer =
        f:
        if peers == null then
          [ ]
        else
          concatMap (index: f (peerPath index) (builtins.elemAt peers index)) (
            builtins.genList (index: index) (builtins.length peers)
          );
      singlePeerGiven = builtins.any (field: get vpn field != null) [
        "endpoint"
        "publicKey"
        "presharedKeyFile"
        "persistentKeepalive"
      ];
    in
    if protocol == "fastd" then
      foreign (optionPath name) vpn wireguardOnly "fastd"
      ++ missing (optionPath name) vpn [
        "secretFile"
        "peers"
      ]
      ++ optional (peers == [ ]) "${at name "peers"}: must list at least one peer"
      ++ eachPeer (
        path: peer:
        foreign path peer wireguardPeerOnly "fastd"
        ++ missing path peer [
          "name"
          "key"
          "remotes"
        ]
      )
    else
      foreign (optionPath name) vpn fastdOnly protocol
      ++ missing (optionPath name) vpn [ "privateKeyFile" ]
      ++ (
        if peers != null && singlePeerGiven then
          [ "${at name "peers"}: give either peers or endpoint and publicKey, not both" ]
        else if peers == null then
          missing (optionPath name) vpn [
            "endpoint"
            "publicKey"
          ]
        else
          optional (peers == [ ]) "${at name "peers"}: must list at least one peer"
      )
      ++ eachPeer (
        path: peer:
        foreign path peer fastdPeerOnly protocol
        ++ missing path peer [
          "publicKey"
          "endpoint"
        ]
      );

  wanProblems =
    let
      mark = wan.mark or null;
    in
    optional (
      mark != null && mark > 10000 && mark < 10100
    ) "services.vpnsteer.wan.mark: 10001..10099 are the tunnels' marks, got ${toString mark}";
in
concatMap (name: nameProblems name ++ bridgeProblems name vpns.${name}) names
++ collisionProblems
++ concatMap (name: protocolProblems name vpns.${name}) names
++ wanProblems
