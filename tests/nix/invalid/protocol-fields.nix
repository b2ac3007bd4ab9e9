# Fields of the other protocol, a missing key, and both WireGuard peer forms at once.
{
  vpns = {
    wg = {
      id = 1;
      addrV4 = "198.51.100.1";
      mtu = 1400;
      endpoint = "192.0.2.1:51820";
      peers = [ { publicKey = "CnrPRVkev5/drZpq2Dg9CF+uTER3SaxTN1yPQEkxdEs="; key = "00"; } ];
    };
    single = { id = 2; addrV4 = "198.51.100.2"; privateKeyFile = "/k"; endpoint = "192.0.2.1:51820"; };
    empty = { id = 3; addrV4 = "198.51.100.3"; privateKeyFile = "/k"; peers = [ ]; };
    ff = {
      id = 4;
      protocol = "fastd";
      addrV4 = "198.51.100.4";
      privateKeyFile = "/k";
      implementation = "userspace";
      peers = [ { name = "gw"; publicKey = "CnrPRVkev5/drZpq2Dg9CF+uTER3SaxTN1yPQEkxdEs="; remotes = [ "192.0.2.80:10000" ]; } ];
    };
  };
}
