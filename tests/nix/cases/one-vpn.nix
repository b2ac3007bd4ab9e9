# Mirrors tests/golden/one-vpn/input.json: the original module's single-peer form.
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
