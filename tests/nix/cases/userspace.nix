# Mirrors tests/golden/userspace/input.json: the three WireGuard implementations.
{
  vpns = {
    auto = {
      id = 1;
      endpoint = "192.0.2.1:51820";
      publicKey = "CnrPRVkev5/drZpq2Dg9CF+uTER3SaxTN1yPQEkxdEs=";
      addrV4 = "198.51.100.2";
      dns = [ "198.51.100.53" ];
      privateKeyFile = "/etc/vpnsteer/auto.key";
    };
    kern = {
      id = 2;
      implementation = "kernel";
      endpoint = "192.0.2.2:51820";
      publicKey = "vmK3Pj3gTczzwjdxTQnwjRxuADGqoF1fyP8+pPOXzzk=";
      addrV4 = "198.51.100.3";
      dns = [ "198.51.100.53" ];
      privateKeyFile = "/etc/vpnsteer/kern.key";
    };
    user = {
      id = 3;
      implementation = "userspace";
      endpoint = "192.0.2.3:51820";
      publicKey = "10DJA4P7Du2QVDSQMQctPfWNn51pWYpEHNaNCpGIXAg=";
      addrV4 = "198.51.100.4";
      addrV6 = "2001:db8:3::2";
      dns = [ "198.51.100.53" ];
      privateKeyFile = "/etc/vpnsteer/user.key";
    };
  };
}
