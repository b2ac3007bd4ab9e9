# Unit tests of vpnsteerd's logic (included by CMakeLists.txt): the netlink encodings, the
# system-wide rule sets against fakes of the kernel, and the D-Bus names.
add_executable(test_service
    ${CMAKE_CURRENT_LIST_DIR}/test_service_fakes.hpp
    ${CMAKE_CURRENT_LIST_DIR}/test_service_netlink_messages.cpp
    ${CMAKE_CURRENT_LIST_DIR}/test_service_system_wide_rules.cpp
    ${CMAKE_CURRENT_LIST_DIR}/test_service_dbus_names.cpp
    ${CMAKE_CURRENT_LIST_DIR}/test_service_wireguard.cpp
    ${CMAKE_CURRENT_LIST_DIR}/test_service_wireguard_tunnels.cpp
    ${CMAKE_CURRENT_LIST_DIR}/test_service_gateway_selector.cpp
    ${CMAKE_CURRENT_LIST_DIR}/test_service_fastd.cpp
    ${CMAKE_CURRENT_LIST_DIR}/test_service_tunnel_tick.cpp
)
target_include_directories(test_service PRIVATE ${CMAKE_CURRENT_LIST_DIR}/../..)
target_link_libraries(test_service PRIVATE vpnsteer-service vpnsteer-wireguard vpnsteer-fastd
    GTest::gtest_main)
gtest_discover_tests(test_service PROPERTIES LABELS unit)

# The WAN DNS forwarder hosted in vpnsteerd (service/wandns/wan_dns_service.hpp), against a fake
# systemd-resolved.
add_executable(test_wandns_service ${CMAKE_CURRENT_LIST_DIR}/test_wandns_service.cpp)
target_include_directories(test_wandns_service PRIVATE ${CMAKE_CURRENT_LIST_DIR}/../..)
target_link_libraries(test_wandns_service PRIVATE vpnsteer-wandns-host GTest::gtest_main)
gtest_discover_tests(test_wandns_service PROPERTIES LABELS unit)
