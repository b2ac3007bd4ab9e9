# A bridge named like another VPN's tunnel, and like another VPN's bridge.
{
  vpns = {
    a = { id = 1; bridgeDevice = "b"; endpoint = "192.0.2.1:51820"; publicKey = "CnrPRVkev5/drZpq2Dg9CF+uTER3SaxTN1yPQEkxdEs="; addrV4 = "198.51.100.1"; privateKeyFile = "/k"; };
    b = { id = 2; endpoint = "192.0.2.1:51820"; publicKey = "CnrPRVkev5/drZpq2Dg9CF+uTER3SaxTN1yPQEkxdEs="; addrV4 = "198.51.100.2"; privateKeyFile = "/k"; };
    c = { id = 3; bridgeDevice = "b"; endpoint = "192.0.2.1:51820"; publicKey = "CnrPRVkev5/drZpq2Dg9CF+uTER3SaxTN1yPQEkxdEs="; addrV4 = "198.51.100.3"; privateKeyFile = "/k"; };
  };
}
