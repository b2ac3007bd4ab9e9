# A WAN mark among the tunnels' marks.
{
  wan.mark = 10005;
  vpns.us = { id = 1; endpoint = "192.0.2.1:51820"; publicKey = "CnrPRVkev5/drZpq2Dg9CF+uTER3SaxTN1yPQEkxdEs="; addrV4 = "198.51.100.1"; privateKeyFile = "/k"; };
}
