# Mirrors tests/golden/fastd-configurable/input.json.
{
  vpns.ffc = {
    id = 9;
    protocol = "fastd";
    addrV4 = "198.51.100.9";
    addrV6 = "2001:db8:9::2";
    dns = [ "198.51.100.53" ];
    secretFile = "/etc/vpnsteer/ffc.secret";
    methods = [
      "salsa2012+umac"
      "null"
    ];
    mtu = 1312;
    configurable = true;
    transportMode = "performance";
    peers = [
      {
        name = "gw1";
        key = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        remotes = [
          "[2001:db8::80]:10000"
          "gw1.example.net:10001"
        ];
      }
      {
        name = "gw2";
        key = "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210";
        remotes = [ "192.0.2.81:10000" ];
      }
    ];
  };
}
