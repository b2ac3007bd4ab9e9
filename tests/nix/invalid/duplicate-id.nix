# Two VPNs with one id: the one that sorts first (as in vpns.json) keeps it.
{
  vpns = {
    b = { id = 4; endpoint = "192.0.2.2:51820"; publicKey = "CnrPRVkev5/drZpq2Dg9CF+uTER3SaxTN1yPQEkxdEs="; addrV4 = "198.51.100.3"; privateKeyFile = "/etc/vpnsteer/b.key"; };
    a = { id = 4; endpoint = "192.0.2.1:51820"; publicKey = "CnrPRVkev5/drZpq2Dg9CF+uTER3SaxTN1yPQEkxdEs="; addrV4 = "198.51.100.2"; privateKeyFile = "/etc/vpnsteer/a.key"; };
  };
}
