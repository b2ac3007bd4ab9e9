# Mirrors tests/golden/original-three/input.json: a sane.vpn configuration carried over by
# renaming sane.vpn to services.vpnsteer.vpns. The key files are Nix paths, as the original
# module's `either str path` allowed: they must come out as their names, not store paths.
{
  vpns = {
    ovpnd-us = {
      id = 1;
      endpoint = "vpn-us.example.net:9930";
      publicKey = "CnrPRVkev5/drZpq2Dg9CF+uTER3SaxTN1yPQEkxdEs=";
      addrV4 = "198.51.100.2";
      privateKeyFile = /run/secrets/wg-ovpnd-us.priv;
    };
    ovpnd-nl = {
      id = 2;
      endpoint = "vpn-nl.example.net:9930";
      publicKey = "vmK3Pj3gTczzwjdxTQnwjRxuADGqoF1fyP8+pPOXzzk=";
      addrV4 = "198.51.100.3";
      privateKeyFile = /run/secrets/wg-ovpnd-nl.priv;
    };
    ovpnd-ukr = {
      id = 3;
      endpoint = "203.0.113.30:9930";
      publicKey = "10DJA4P7Du2QVDSQMQctPfWNn51pWYpEHNaNCpGIXAg=";
      addrV4 = "198.51.100.4";
      privateKeyFile = "/run/secrets/wg-ovpnd-ukr.priv";
    };
  };
}
