# Mirrors tests/golden/bridge-device/input.json: a bridge name of one's own.
{
  vpns.home = {
    id = 42;
    endpoint = "home.example.org:51820";
    publicKey = "HVXx7brX/EPxJRlndUgfXkfKIu9NCqkUjSfvF8zhnyA=";
    addrV4 = "203.0.113.42/24";
    dns = [ "203.0.113.1" ];
    bridgeDevice = "br-lab";
    privateKeyFile = "/etc/vpnsteer/home.key";
  };
}
