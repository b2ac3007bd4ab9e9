# Mirrors tests/golden/stale-cleanup/input.json (the spec of one-vpn; that case is about
# the files left from before).
{
  vpns.us = {
    id = 1;
    endpoint = "vpn-us.example.net:51820";
    publicKey = "CnrPRVkev5/drZpq2Dg9CF+uTER3SaxTN1yPQEkxdEs=";
    addrV4 = "198.51.100.2";
    dns = [ "198.51.100.53" ];
    privateKeyFile = "/etc/vpnsteer/us.key";
  };
}
