# Mirrors tests/golden/wan-mark/input.json: a WAN mark other than the default, which the
# generator writes into systemd-timesyncd's drop-in.
{
  wan = {
    mark = 20000;
    dns.listen = [ "127.0.0.1:5354" ];
  };
  vpns.us = {
    id = 1;
    endpoint = "vpn-us.example.net:51820";
    publicKey = "CnrPRVkev5/drZpq2Dg9CF+uTER3SaxTN1yPQEkxdEs=";
    addrV4 = "198.51.100.2";
    dns = [ "198.51.100.53" ];
    privateKeyFile = "/etc/vpnsteer/us.key";
  };
}
