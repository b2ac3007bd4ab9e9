# Mirrors tests/golden/several-peers/input.json: the peers form, one peer without a name,
# failover timings.
{
  vpns.multi = {
    id = 12;
    addrV4 = "198.51.100.12";
    addrV6 = "2001:db8:12::2";
    dns = [ "198.51.100.53" ];
    privateKeyFile = "/etc/vpnsteer/multi.key";
    failover = {
      silenceTimeout = 20;
      probeInterval = 5;
    };
    peers = [
      {
        name = "gw1";
        publicKey = "KEyPCu21GuOJeh6IyoxBF7hE38aHX3XzhVDwCnvhthw=";
        endpoint = "192.0.2.10:51820";
        presharedKeyFile = /etc/vpnsteer/multi.psk;
        persistentKeepalive = 25;
      }
      {
        name = "gw2";
        publicKey = "2iMPg9DQhDZVuq+QPHP1C4qQ09Mkl2l311HpUpungS0=";
        endpoint = "[2001:db8::11]:51820";
      }
      {
        publicKey = "vmK3Pj3gTczzwjdxTQnwjRxuADGqoF1fyP8+pPOXzzk=";
        endpoint = "gw3.example.net:51821";
      }
    ];
  };
}
