# Mirrors examples/vpns.json: the wan section, both peer forms, IPv6.
{
  wan = {
    mark = 10000;
    dns.listen = [
      "127.0.0.1:54"
      "[::1]:54"
    ];
  };
  vpns = {
    home = {
      id = 1;
      endpoint = "vpn.home.example.net:51820";
      publicKey = "FtWSJ0KLwbAPJzkxebLdauJhR+4VbHA9y9FLcGpYb1s=";
      addrV4 = "198.51.100.2";
      addrV6 = "2001:db8:1::2";
      dns = [
        "198.51.100.53"
        "2001:db8:1::53"
      ];
      privateKeyFile = "/etc/vpnsteer/home.key";
      persistentKeepalive = 25;
    };
    travel = {
      id = 2;
      addrV4 = "203.0.113.18/32";
      dns = [ "203.0.113.53" ];
      privateKeyFile = "/etc/vpnsteer/travel.key";
      peers = [
        {
          name = "ams";
          publicKey = "ogda1wnHrugGcX3vnMzvyOqccPeJnJtRSy0ZRAjELkY=";
          endpoint = "192.0.2.10:51820";
        }
        {
          name = "fra";
          publicKey = "lPgweCH3M2BEUMKlEPsi9irC5oxRdDKSFCTMEyvvJFg=";
          endpoint = "[2001:db8:2::10]:51820";
        }
      ];
    };
  };
}
