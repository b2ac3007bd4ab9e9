# Unit tests of the WAN DNS forwarder (service/wandns), run in-process and unprivileged
# (included by CMakeLists.txt).
add_executable(test_wandns
    ${CMAKE_CURRENT_LIST_DIR}/test_wandns_message.cpp
    ${CMAKE_CURRENT_LIST_DIR}/test_wandns_address.cpp
    ${CMAKE_CURRENT_LIST_DIR}/test_wandns_forwarder.cpp)
target_include_directories(test_wandns PRIVATE ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(test_wandns PRIVATE vpnsteer-wandns GTest::gtest_main)
gtest_discover_tests(test_wandns PROPERTIES LABELS unit)
