# Mirrors tests/golden/fastd/input.json.
{
  vpns.ff = {
    id = 8;
    protocol = "fastd";
    addrV4 = "198.51.100.8";
    dns = [ "198.51.100.53" ];
    secretFile = "/etc/vpnsteer/ff.secret";
    methods = [
      "null+salsa2012+umac"
      "salsa2012+umac"
    ];
    peers = [
      {
        name = "gw1";
        key = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        remotes = [
          "192.0.2.80:10000"
          "gw1.example.net:10000"
        ];
      }
    ];
  };
}
