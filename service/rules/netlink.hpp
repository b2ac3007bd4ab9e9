// The libnl-3 handles vpnsteerd uses, owned by RAII types, and libnl's error codes as a
// std::error_category so that failures travel as std::system_error naming what was tried.
#pragma once

#include "core/spec.hpp"

#include <exception>
#include <functional>
#include <initializer_list>
#include <memory>
#include <netlink/errno.h>
#include <netlink/handlers.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>
#include <string>
#include <system_error>
#include <type_traits>

namespace vpnsteer::rules {

struct NetlinkSocketDeleter {
    void operator()(nl_sock* socket) const { nl_socket_free(socket); }
};
struct NetlinkMessageDeleter {
    void operator()(nl_msg* message) const { nlmsg_free(message); }
};
struct NetlinkCallbackDeleter {
    void operator()(nl_cb* callback) const { nl_cb_put(callback); }
};
using NetlinkSocketPtr = std::unique_ptr<nl_sock, NetlinkSocketDeleter>;
using NetlinkMessagePtr = std::unique_ptr<nl_msg, NetlinkMessageDeleter>;
using NetlinkCallbackPtr = std::unique_ptr<nl_cb, NetlinkCallbackDeleter>;

// libnl's NLE_* codes (positive), with nl_geterror() as their message.
const std::error_category& netlinkCategory();

// `code` is what libnl returned: a negative NLE_* value.
inline std::system_error netlinkError(int code, const std::string& whatWasTried) {
    return std::system_error(code < 0 ? -code : code, netlinkCategory(), whatWasTried);
}

// A kernel booted with ipv6.disable=1 has no IPv6 rules or routes at all, so there is no IPv6
// traffic to steer or to leak: an IPv6 change it refuses with EAFNOSUPPORT has nothing to do.
inline bool ipv6Absent(AddressFamily family, int netlinkCode) {
    return family == AddressFamily::ipv6 && netlinkCode == -NLE_AF_NOSUPPORT;
}

// A non-blocking NETLINK_ROUTE socket that receives the notifications of `groups`
// (RTNLGRP_*) and hands each valid message to `onMessage(message, context)`. `what` names
// the socket in errors ("the netlink link monitor socket"); `bufferBytes`, if not 0, sizes
// its receive buffer. Throws std::system_error on failure.
NetlinkSocketPtr openNotificationSocket(std::initializer_list<int> groups,
                                        int (*onMessage)(nl_msg*, void*), void* context,
                                        const std::string& what, int bufferBytes = 0);

// Reads every notification queued on `socket`. When some were lost (the kernel's buffer
// overran) or reading failed, calls `eventsLost` (if set) so the caller compares everything.
void readNotifications(nl_sock* socket, const std::function<void()>& eventsLost);

// Allocates a netlink message, throwing std::bad_alloc when libnl cannot.
NetlinkMessagePtr allocateMessage(int type, int flags);

// A connected NETLINK_ROUTE socket for requests: one request at a time, each answered by an
// acknowledgement or a dump.
class RouteNetlinkSocket {
public:
    RouteNetlinkSocket();

    // Sends `message` and waits for the kernel's acknowledgement. Returns 0 or libnl's
    // negative error code, so callers can tell "already there" from a real failure.
    int request(nl_msg* message);

    // Sends the addition or removal of one rule or route and waits for the kernel's answer.
    // Returns false when there was nothing to change: the kernel answered `unchangedCode`
    // (-NLE_EXIST for an addition, -NLE_OBJ_NOTFOUND for a removal), or it has no IPv6 for an
    // IPv6 change. Throws netlinkError naming whatWasTried(), called only then.
    template <typename WhatWasTried>
    bool change(nl_msg* message, AddressFamily family, int unchangedCode,
                WhatWasTried&& whatWasTried);

    // Sends a dump request and calls `onMessage` for each answer until the dump ends.
    // Throws std::system_error naming `whatWasDumped` on failure.
    template <typename OnMessage>
    void dump(nl_msg* message, const std::string& whatWasDumped, OnMessage&& onMessage);

private:
    using RawHandler = int (*)(nl_msg*, void*);
    void dumpWith(nl_msg* message, const std::string& whatWasDumped, RawHandler handler,
                  void* context, std::exception_ptr& handlerError);

    NetlinkSocketPtr socket_;
};

template <typename WhatWasTried>
bool RouteNetlinkSocket::change(nl_msg* message, AddressFamily family, int unchangedCode,
                                WhatWasTried&& whatWasTried) {
    const int error = request(message);
    if (error == unchangedCode || ipv6Absent(family, error)) {
        return false;
    }
    if (error < 0) {
        throw netlinkError(error, whatWasTried());
    }
    return true;
}

template <typename OnMessage>
void RouteNetlinkSocket::dump(nl_msg* message, const std::string& whatWasDumped,
                              OnMessage&& onMessage) {
    // The handler runs inside libnl's C code, which an exception must not cross: the first
    // one is kept, the rest of the dump is still read (so the socket stays in step), and it is
    // thrown afterwards.
    struct Context {
        std::remove_reference_t<OnMessage>* onMessage;
        std::exception_ptr error;
    } context{&onMessage, nullptr};
    dumpWith(
        message, whatWasDumped,
        [](nl_msg* answer, void* opaque) -> int {
            auto* context = static_cast<Context*>(opaque);
            if (!context->error) {
                try {
                    (*context->onMessage)(nlmsg_hdr(answer));
                } catch (...) {
                    context->error = std::current_exception();
                }
            }
            return NL_OK;
        },
        &context, context.error);
}

} // namespace vpnsteer::rules
