# Mirrors tests/golden/ipv6/input.json.
{
  vpns.six = {
    id = 6;
    endpoint = "[2001:db8:ffff::1]:51820";
    publicKey = "HVXx7brX/EPxJRlndUgfXkfKIu9NCqkUjSfvF8zhnyA=";
    addrV4 = "198.51.100.6/32";
    addrV6 = "2001:db8:6::2/128";
    dns = [
      "2001:db8:6::53"
      "198.51.100.53"
    ];
    privateKeyFile = "/etc/vpnsteer/six.key";
  };
}
