# Unit tests of vpnsteer-generator: the pure renderer and plan, and the file effects
# (included by CMakeLists.txt). The golden tests are in tests/golden/.
add_executable(test_generator
    ${CMAKE_CURRENT_LIST_DIR}/test_generator_render.cpp
    ${CMAKE_CURRENT_LIST_DIR}/test_generator_files.cpp
)
target_link_libraries(test_generator PRIVATE vpnsteer-generator-lib GTest::gtest_main)
gtest_discover_tests(test_generator PROPERTIES LABELS unit)
