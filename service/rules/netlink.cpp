#include "service/rules/netlink.hpp"

#include <netlink/errno.h>
#include <new>

namespace vpnsteer::rules {

namespace {

class NetlinkCategory : public std::error_category {
public:
    const char* name() const noexcept override { return "libnl"; }
    std::string message(int code) const override { return nl_geterror(code); }
};

} // namespace

const std::error_category& netlinkCategory() {
    static const NetlinkCategory category;
    return category;
}

NetlinkMessagePtr allocateMessage(int type, int flags) {
    NetlinkMessagePtr message(nlmsg_alloc_simple(type, flags));
    if (!message) {
        throw std::bad_alloc();
    }
    return message;
}

RouteNetlinkSocket::RouteNetlinkSocket()
    : socket_(nl_socket_alloc()) {
    if (!socket_) {
        throw std::bad_alloc();
    }
    if (int error = nl_connect(socket_.get(), NETLINK_ROUTE); error < 0) {
        throw netlinkError(error, "connecting a NETLINK_ROUTE socket");
    }
}

int RouteNetlinkSocket::request(nl_msg* message) {
    if (int error = nl_send_auto(socket_.get(), message); error < 0) {
        return error;
    }
    return nl_wait_for_ack(socket_.get());
}

void RouteNetlinkSocket::dumpWith(nl_msg* message, const std::string& whatWasDumped,
                                  RawHandler handler, void* context,
                                  std::exception_ptr& handlerError) {
    // A callback set of its own, so the socket's default handlers stay as request() needs them.
    NetlinkCallbackPtr socketCallbacks(nl_socket_get_cb(socket_.get()));
    NetlinkCallbackPtr callbacks(nl_cb_clone(socketCallbacks.get()));
    if (!callbacks) {
        throw std::bad_alloc();
    }
    nl_cb_set(callbacks.get(), NL_CB_VALID, NL_CB_CUSTOM, handler, context);
    if (int error = nl_send_auto(socket_.get(), message); error < 0) {
        throw netlinkError(error, "asking the kernel for " + whatWasDumped);
    }
    if (int error = nl_recvmsgs(socket_.get(), callbacks.get()); error < 0) {
        throw netlinkError(error, "reading " + whatWasDumped);
    }
    if (handlerError) {
        std::rethrow_exception(handlerError);
    }
}

NetlinkSocketPtr openNotificationSocket(std::initializer_list<int> groups,
                                        int (*onMessage)(nl_msg*, void*), void* context,
                                        const std::string& what, int bufferBytes) {
    NetlinkSocketPtr socket(nl_socket_alloc());
    if (!socket)
        throw std::bad_alloc();
    // Notifications carry sequence number 0 and come unasked.
    nl_socket_disable_seq_check(socket.get());
    nl_socket_modify_cb(socket.get(), NL_CB_VALID, NL_CB_CUSTOM, onMessage, context);
    if (int error = nl_connect(socket.get(), NETLINK_ROUTE); error < 0)
        throw netlinkError(error, "connecting " + what);
    for (int group : groups)
        if (int error = nl_socket_add_membership(socket.get(), group); error < 0)
            throw netlinkError(error,
                               "joining netlink group " + std::to_string(group) + " on " + what);
    if (bufferBytes != 0)
        if (int error = nl_socket_set_buffer_size(socket.get(), bufferBytes, 0); error < 0)
            throw netlinkError(error, "sizing the receive buffer of " + what);
    if (int error = nl_socket_set_nonblocking(socket.get()); error < 0)
        throw netlinkError(error, "making " + what + " non-blocking");
    return socket;
}

void readNotifications(nl_sock* socket, const std::function<void()>& eventsLost) {
    for (;;) {
        const int result = nl_recvmsgs_default(socket);
        if (result == -NLE_AGAIN)
            return;
        if (result < 0) {
            // ENOBUFS (which libnl reports as NLE_NOMEM) or anything else: what was missed
            // is unknown.
            if (eventsLost)
                eventsLost();
            if (result != -NLE_NOMEM)
                return;
        }
    }
}

} // namespace vpnsteer::rules
