# Names the kernel refuses: too long, reserved, a derived bridge name over 15 bytes, and
# a bridge that is its VPN's own name.
{
  vpns = {
    averyverylongname = { id = 1; endpoint = "192.0.2.1:51820"; publicKey = "CnrPRVkev5/drZpq2Dg9CF+uTER3SaxTN1yPQEkxdEs="; addrV4 = "198.51.100.1"; privateKeyFile = "/k"; };
    lo = { id = 2; endpoint = "192.0.2.1:51820"; publicKey = "CnrPRVkev5/drZpq2Dg9CF+uTER3SaxTN1yPQEkxdEs="; addrV4 = "198.51.100.2"; privateKeyFile = "/k"; };
    thirteenchars = { id = 3; endpoint = "192.0.2.1:51820"; publicKey = "CnrPRVkev5/drZpq2Dg9CF+uTER3SaxTN1yPQEkxdEs="; addrV4 = "198.51.100.3"; privateKeyFile = "/k"; };
    self = { id = 4; bridgeDevice = "self"; endpoint = "192.0.2.1:51820"; publicKey = "CnrPRVkev5/drZpq2Dg9CF+uTER3SaxTN1yPQEkxdEs="; addrV4 = "198.51.100.4"; privateKeyFile = "/k"; };
    "my vpn" = { id = 5; endpoint = "192.0.2.1:51820"; publicKey = "CnrPRVkev5/drZpq2Dg9CF+uTER3SaxTN1yPQEkxdEs="; addrV4 = "198.51.100.5"; privateKeyFile = "/k"; };
    okay = { id = 6; bridgeDevice = "br-this-is-too-long"; endpoint = "192.0.2.1:51820"; publicKey = "CnrPRVkev5/drZpq2Dg9CF+uTER3SaxTN1yPQEkxdEs="; addrV4 = "198.51.100.6"; privateKeyFile = "/k"; };
  };
}
