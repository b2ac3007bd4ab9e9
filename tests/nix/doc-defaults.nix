# Checks that nix/defaults.nix holds the defaults docs/spec.md documents, for
# tests/nix/run.sh `defaults`. (`vpnsteer check` does not print the wan section or the
# DNS servers, so this is where the module's wan defaults meet the spec's.)
#
#   nix-instantiate --eval --strict --json tests/nix/doc-defaults.nix --argstr table FILE
#
# FILE has one line per row of the spec's field tables: the field, a tab, and the
# "default" cell as written. Evaluates to true or fails naming the field that differs.
{ table }:
let
  defaults = import ../../nix/defaults.nix;

  rows = builtins.filter (line: builtins.isString line && line != "") (
    builtins.split "\n" (builtins.readFile (/. + table))
  );
  parse =
    line:
    let
      parts = builtins.match "([^\t]*)\t(.*)" line;
    in
    {
      field = builtins.elemAt parts 0;
      cell = builtins.elemAt parts 1;
    };
  # The first `quoted` part of a cell, or the whole cell.
  literal =
    cell:
    let
      quoted = builtins.match "[^`]*`([^`]*)`.*" cell;
    in
    if quoted == null then cell else builtins.head quoted;
  # A field can appear in more than one table (peers); the first row wins.
  documented = builtins.foldl' (
    found: row:
    if found ? ${row.field} then found else found // { ${row.field} = literal row.cell; }
  ) { } (map parse rows);

  expected = {
    protocol = defaults.protocol;
    dns = defaults.dns;
    implementation = defaults.implementation;
    inherit (defaults.fastd)
      methods
      mtu
      configurable
      transportMode
      ;
    "wan.mark" = defaults.wan.mark;
    "wan.dns.listen" = defaults.wan.dns.listen;
    "wan.dns.servers" = defaults.wan.dns.servers;
  };

  check =
    field:
    let
      text = documented.${field} or (throw "docs/spec.md documents no default for ${field}");
      value = builtins.fromJSON text;
    in
    if value == expected.${field} then
      true
    else
      throw "nix/defaults.nix has ${builtins.toJSON expected.${field}} for ${field}, docs/spec.md ${text}";
in
builtins.all check (builtins.attrNames expected)
&& (
  documented.bridgeDevice == defaults.bridgeDevice "NAME"
  || throw "nix/defaults.nix derives the bridge ${defaults.bridgeDevice "NAME"}, docs/spec.md ${documented.bridgeDevice}"
)
