# Unit tests of the vpnsteer CLI, run in-process (included by CMakeLists.txt): the offline
# subcommands, and the D-Bus ones against a fake vpnsteerd (test_cli_fakes.hpp), with their
# pure parts (status layouts, error messages, the rp_filter check). The real daemon is driven
# by tests/cli/dbus.sh.
add_executable(test-cli
    ${CMAKE_CURRENT_LIST_DIR}/test_cli_check.cpp
    ${CMAKE_CURRENT_LIST_DIR}/test_cli_keys.cpp
    ${CMAKE_CURRENT_LIST_DIR}/test_cli_daemon_commands.cpp
    ${CMAKE_CURRENT_LIST_DIR}/test_cli_daemon_error.cpp
    ${CMAKE_CURRENT_LIST_DIR}/test_cli_status_format.cpp
    ${CMAKE_CURRENT_LIST_DIR}/test_cli_rp_filter.cpp
    ${CMAKE_CURRENT_LIST_DIR}/test_cli_wan.cpp
    ${CMAKE_CURRENT_LIST_DIR}/test_cli_exec.cpp
    ${CMAKE_CURRENT_LIST_DIR}/test_cli_bus_message.cpp
)
target_link_libraries(test-cli PRIVATE vpnsteer-cli-commands PkgConfig::NLOHMANN_JSON
    GTest::gtest_main)
gtest_discover_tests(test-cli PROPERTIES LABELS unit)
