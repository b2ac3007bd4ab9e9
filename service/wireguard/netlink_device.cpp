#include "service/wireguard/netlink_device.hpp"

#include <arpa/inet.h>
#include <cstring>
#include <linux/wireguard.h>
#include <netinet/in.h>
#include <netlink/attr.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <new>
#include <sodium.h>
#include <sys/socket.h>

namespace vpnsteer::wireguard {

namespace {

// libnl returns a negative NLE_* code from nla_put and friends when the message is full.
void put(int result, std::string_view what) {
    if (result < 0) {
        throw rules::netlinkError(result, "encoding " + std::string(what) + " for WireGuard");
    }
}

void putKey(nl_msg* message, int attribute, const WireguardKey& key, std::string_view what) {
    put(nla_put(message, attribute, static_cast<int>(key.bytes.size()), key.bytes.data()), what);
}

void putEndpoint(nl_msg* message, const IpEndpoint& endpoint) {
    if (endpoint.family == AF_INET6) {
        sockaddr_in6 address{};
        address.sin6_family = AF_INET6;
        address.sin6_port = htons(endpoint.port);
        std::memcpy(&address.sin6_addr, endpoint.address.data(), 16);
        put(nla_put(message, WGPEER_A_ENDPOINT, sizeof address, &address), "the endpoint");
    } else {
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_port = htons(endpoint.port);
        std::memcpy(&address.sin_addr, endpoint.address.data(), 4);
        put(nla_put(message, WGPEER_A_ENDPOINT, sizeof address, &address), "the endpoint");
    }
}

void putAllowedIp(nl_msg* message, int index, int family) {
    nlattr* allowedIp = nla_nest_start(message, index | NLA_F_NESTED);
    if (allowedIp == nullptr) {
        put(-NLE_NOMEM, "an allowed IP");
    }
    const std::array<std::uint8_t, 16> any{};
    put(nla_put_u16(message, WGALLOWEDIP_A_FAMILY, static_cast<std::uint16_t>(family)),
        "an allowed IP");
    put(nla_put(message, WGALLOWEDIP_A_IPADDR, family == AF_INET ? 4 : 16, any.data()),
        "an allowed IP");
    put(nla_put_u8(message, WGALLOWEDIP_A_CIDR_MASK, 0), "an allowed IP");
    nla_nest_end(message, allowedIp);
}

nlattr* startNest(nl_msg* message, int attribute, std::string_view what) {
    nlattr* nest = nla_nest_start(message, attribute | NLA_F_NESTED);
    if (nest == nullptr) {
        put(-NLE_NOMEM, what);
    }
    return nest;
}

void putHeader(nl_msg* message, int family, int flags, std::uint8_t command) {
    if (genlmsg_put(message, NL_AUTO_PORT, NL_AUTO_SEQ, family, 0, flags, command,
                    WG_GENL_VERSION) == nullptr) {
        put(-NLE_NOMEM, "the generic netlink header");
    }
}

std::optional<IpEndpoint> decodeEndpoint(const nlattr* attribute) {
    IpEndpoint endpoint;
    const int length = nla_len(attribute);
    if (length >= static_cast<int>(sizeof(sockaddr_in6)) &&
        static_cast<const sockaddr*>(nla_data(attribute))->sa_family == AF_INET6) {
        sockaddr_in6 address;
        std::memcpy(&address, nla_data(attribute), sizeof address);
        endpoint.family = AF_INET6;
        endpoint.port = ntohs(address.sin6_port);
        std::memcpy(endpoint.address.data(), &address.sin6_addr, 16);
        return endpoint;
    }
    if (length >= static_cast<int>(sizeof(sockaddr_in)) &&
        static_cast<const sockaddr*>(nla_data(attribute))->sa_family == AF_INET) {
        sockaddr_in address;
        std::memcpy(&address, nla_data(attribute), sizeof address);
        endpoint.family = AF_INET;
        endpoint.port = ntohs(address.sin_port);
        std::memcpy(endpoint.address.data(), &address.sin_addr, 4);
        return endpoint;
    }
    return std::nullopt;
}

std::optional<WireguardKey> decodeKey(const nlattr* attribute) {
    if (attribute == nullptr || nla_len(attribute) != 32) {
        return std::nullopt;
    }
    WireguardKey key;
    std::memcpy(key.bytes.data(), nla_data(attribute), 32);
    return key;
}

} // namespace

void encodeSetDevice(nl_msg* message, int family, std::string_view name,
                     const DeviceChange& change) {
    putHeader(message, family, NLM_F_REQUEST | NLM_F_ACK, WG_CMD_SET_DEVICE);
    put(nla_put_string(message, WGDEVICE_A_IFNAME, std::string(name).c_str()), "the name");
    if (change.privateKey) {
        putKey(message, WGDEVICE_A_PRIVATE_KEY, *change.privateKey, "the private key");
    }
    if (change.listenPort) {
        put(nla_put_u16(message, WGDEVICE_A_LISTEN_PORT, *change.listenPort), "the port");
    }
    if (change.firewallMark) {
        put(nla_put_u32(message, WGDEVICE_A_FWMARK, *change.firewallMark), "the mark");
    }
    if (!change.replacePeer && !change.updateEndpoint) {
        return;
    }
    if (change.replacePeer) {
        put(nla_put_u32(message, WGDEVICE_A_FLAGS, WGDEVICE_F_REPLACE_PEERS), "the flags");
    }
    nlattr* peers = startNest(message, WGDEVICE_A_PEERS, "the peers");
    nlattr* peer = startNest(message, 0, "the peer");
    if (const auto& settings = change.replacePeer) {
        putKey(message, WGPEER_A_PUBLIC_KEY, settings->publicKey, "the peer's key");
        put(nla_put_u32(message, WGPEER_A_FLAGS, WGPEER_F_REPLACE_ALLOWEDIPS), "the peer flags");
        putKey(message, WGPEER_A_PRESHARED_KEY, settings->presharedKey.value_or(WireguardKey()),
               "the preshared key");
        if (settings->endpoint) {
            putEndpoint(message, *settings->endpoint);
        }
        put(nla_put_u16(message, WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL,
                        settings->persistentKeepalive.value_or(0)),
            "the keepalive");
        nlattr* allowedIps = startNest(message, WGPEER_A_ALLOWEDIPS, "the allowed IPs");
        putAllowedIp(message, 0, AF_INET);
        putAllowedIp(message, 1, AF_INET6);
        nla_nest_end(message, allowedIps);
    } else {
        putKey(message, WGPEER_A_PUBLIC_KEY, change.updateEndpoint->peer, "the peer's key");
        put(nla_put_u32(message, WGPEER_A_FLAGS, WGPEER_F_UPDATE_ONLY), "the peer flags");
        putEndpoint(message, change.updateEndpoint->endpoint);
    }
    nla_nest_end(message, peer);
    nla_nest_end(message, peers);
}

void encodeGetDevice(nl_msg* message, int family, std::string_view name) {
    putHeader(message, family, NLM_F_REQUEST | NLM_F_DUMP, WG_CMD_GET_DEVICE);
    put(nla_put_string(message, WGDEVICE_A_IFNAME, std::string(name).c_str()), "the name");
}

void decodeDeviceMessage(const nlmsghdr* header, DeviceStatus& status) {
    nlattr* device[WGDEVICE_A_MAX + 1] = {};
    if (genlmsg_parse(const_cast<nlmsghdr*>(header), 0, device, WGDEVICE_A_MAX, nullptr) < 0) {
        return;
    }
    if (auto key = decodeKey(device[WGDEVICE_A_PUBLIC_KEY])) {
        if (!key->isZero()) {
            status.publicKey = *key;
        }
    }
    if (device[WGDEVICE_A_LISTEN_PORT]) {
        status.listenPort = nla_get_u16(device[WGDEVICE_A_LISTEN_PORT]);
    }
    if (device[WGDEVICE_A_FWMARK]) {
        status.firewallMark = nla_get_u32(device[WGDEVICE_A_FWMARK]);
    }
    if (!device[WGDEVICE_A_PEERS]) {
        return;
    }
    nlattr* peerAttribute = nullptr;
    int remaining = 0;
    nla_for_each_nested(peerAttribute, device[WGDEVICE_A_PEERS], remaining) {
        nlattr* peer[WGPEER_A_MAX + 1] = {};
        if (nla_parse_nested(peer, WGPEER_A_MAX, peerAttribute, nullptr) < 0) {
            continue;
        }
        auto key = decodeKey(peer[WGPEER_A_PUBLIC_KEY]);
        if (!key) {
            continue;
        }
        // A peer continued from the previous message comes again with its key first.
        PeerStatus* entry = status.peers.empty() || !(status.peers.back().publicKey == *key)
                                ? &status.peers.emplace_back()
                                : &status.peers.back();
        entry->publicKey = *key;
        if (peer[WGPEER_A_ENDPOINT]) {
            entry->endpoint = decodeEndpoint(peer[WGPEER_A_ENDPOINT]);
        }
        if (peer[WGPEER_A_LAST_HANDSHAKE_TIME] &&
            nla_len(peer[WGPEER_A_LAST_HANDSHAKE_TIME]) >= 8) {
            std::int64_t seconds = 0;
            std::memcpy(&seconds, nla_data(peer[WGPEER_A_LAST_HANDSHAKE_TIME]), sizeof seconds);
            entry->latestHandshake = seconds > 0 ? static_cast<std::uint64_t>(seconds) : 0;
        }
        if (peer[WGPEER_A_RX_BYTES]) {
            entry->rxBytes = nla_get_u64(peer[WGPEER_A_RX_BYTES]);
        }
        if (peer[WGPEER_A_TX_BYTES]) {
            entry->txBytes = nla_get_u64(peer[WGPEER_A_TX_BYTES]);
        }
    }
}

NetlinkWireguardDevice::NetlinkWireguardDevice(std::string name)
    : name_(std::move(name))
    , socket_(nl_socket_alloc()) {
    if (!socket_) {
        throw std::bad_alloc();
    }
    if (int error = genl_connect(socket_.get()); error < 0) {
        throw rules::netlinkError(error, "connecting a generic netlink socket for " + name_);
    }
    family_ = genl_ctrl_resolve(socket_.get(), WG_GENL_NAME);
    if (family_ < 0) {
        throw rules::netlinkError(family_, "looking up the kernel's \"" WG_GENL_NAME
                                           "\" generic netlink family for " +
                                               name_);
    }
}

void NetlinkWireguardDevice::apply(const DeviceChange& change) {
    rules::NetlinkMessagePtr message(nlmsg_alloc());
    if (!message) {
        throw std::bad_alloc();
    }
    encodeSetDevice(message.get(), family_, name_, change);
    int error = nl_send_auto(socket_.get(), message.get());
    if (error >= 0) {
        error = nl_wait_for_ack(socket_.get());
    }
    // The message may hold a private key.
    sodium_memzero(nlmsg_data(nlmsg_hdr(message.get())), nlmsg_datalen(nlmsg_hdr(message.get())));
    if (error < 0) {
        throw rules::netlinkError(error, "configuring the kernel WireGuard device " + name_);
    }
}

DeviceStatus NetlinkWireguardDevice::status() {
    rules::NetlinkMessagePtr message(nlmsg_alloc());
    if (!message) {
        throw std::bad_alloc();
    }
    encodeGetDevice(message.get(), family_, name_);
    DeviceStatus status;
    rules::NetlinkCallbackPtr callbacks(nl_cb_alloc(NL_CB_DEFAULT));
    if (!callbacks) {
        throw std::bad_alloc();
    }
    nl_cb_set(
        callbacks.get(), NL_CB_VALID, NL_CB_CUSTOM,
        [](nl_msg* answer, void* into) {
            decodeDeviceMessage(nlmsg_hdr(answer), *static_cast<DeviceStatus*>(into));
            return static_cast<int>(NL_OK);
        },
        &status);
    int error = nl_send_auto(socket_.get(), message.get());
    if (error >= 0) {
        error = nl_recvmsgs(socket_.get(), callbacks.get());
    }
    if (error < 0) {
        throw rules::netlinkError(error, "reading the kernel WireGuard device " + name_);
    }
    return status;
}

} // namespace vpnsteer::wireguard
