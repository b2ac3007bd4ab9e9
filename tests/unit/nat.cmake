# Unit tests of bridge SNAT and DNS-follows-the-VPN (service/nat, service/resolved) against
# fakes of the nat table and of systemd-resolved.
add_executable(test_nat
    ${CMAKE_CURRENT_LIST_DIR}/test_nat_bridge_snat.cpp
    ${CMAKE_CURRENT_LIST_DIR}/test_nat_dns_redirect.cpp
)
target_include_directories(test_nat PRIVATE ${CMAKE_CURRENT_LIST_DIR}/../..)
target_link_libraries(test_nat PRIVATE vpnsteer-nat GTest::gtest_main)
gtest_discover_tests(test_nat PROPERTIES LABELS unit)

add_executable(test_resolved
    ${CMAKE_CURRENT_LIST_DIR}/test_resolved_dns_follows_vpn.cpp
)
target_include_directories(test_resolved PRIVATE ${CMAKE_CURRENT_LIST_DIR}/../..)
target_link_libraries(test_resolved PRIVATE vpnsteer-resolved GTest::gtest_main)
gtest_discover_tests(test_resolved PROPERTIES LABELS unit)
