{
  description = "vpnsteer: VPNs that carry the whole host on demand and chosen applications always, leak-proof";

  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-unstable";

  outputs =
    { self, nixpkgs }:
    let
      # Linux only: vpnsteer is built on systemd-networkd, netlink and iptables.
      systems = [
        "x86_64-linux"
        "aarch64-linux"
      ];
      forAllSystems =
        f:
        builtins.listToAttrs (
          map (system: {
            name = system;
            value = f system;
          }) systems
        );
    in
    {
      packages = forAllSystems (
        system:
        let
          vpnsteer = nixpkgs.legacyPackages.${system}.callPackage ./nix/package.nix { };
        in
        {
          inherit vpnsteer;
          default = vpnsteer;
        }
      );

      overlays.default = final: prev: { vpnsteer = final.callPackage ./nix/package.nix { }; };

      # The module builds the package with the system's own nixpkgs (pkgs.vpnsteer when
      # the overlay is applied, otherwise nix/package.nix through pkgs.callPackage), so it
      # follows the nixpkgs the system is built from, not this flake's input.
      nixosModules.default = ./nix/module.nix;
      nixosModules.vpnsteer = ./nix/module.nix;

      # `nix flake check` builds the package, which runs the unit and golden tests.
      checks = forAllSystems (system: {
        package = self.packages.${system}.default;
      });
    };
}
