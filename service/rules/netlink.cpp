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

} // namespace vpnsteer::rules
