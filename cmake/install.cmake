# `cmake --install BUILD --prefix P` installs what a host application needs to
# embed a node, and the `dave` command:
#
#   P/bin/dave
#   P/include/dave/{codec,crypto,model,messages,node}/*.hpp   include dir P/include/dave
#   P/lib/libdave.a libdave_actors.a libdave_model.a libdave_crypto.a libdave_codec.a
#       libdave_blake3.a
#   P/lib/cmake/dave/daveConfig.cmake, daveConfigVersion.cmake, daveTargets*.cmake
#
# A consumer writes find_package(dave REQUIRED) and links dave::dave.
include(CMakePackageConfigHelpers)

set(DAVE_CMAKE_INSTALL_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/dave)

set_target_properties(dave_codec PROPERTIES EXPORT_NAME codec)
set_target_properties(dave_crypto PROPERTIES EXPORT_NAME crypto)
set_target_properties(dave_messages PROPERTIES EXPORT_NAME messages)

install(TARGETS dave_lib dave_actors dave_messages dave_model dave_crypto dave_codec blake3
  EXPORT daveTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(TARGETS dave_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

# The public headers keep their paths from the project root. No public header
# includes actors/ (the node's internals); the packaging test checks that every
# quoted include of an installed header is installed too.
foreach(directory IN ITEMS codec crypto model messages node)
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/${directory}/
    DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/dave/${directory}
    FILES_MATCHING PATTERN "*.hpp"
    PATTERN "cli" EXCLUDE
    # spawn_node's translation to the actors' setup structs: internal.
    PATTERN "actor_settings.hpp" EXCLUDE)
endforeach()

install(EXPORT daveTargets NAMESPACE dave:: DESTINATION ${DAVE_CMAKE_INSTALL_DIR})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/daveConfig.cmake.in
  ${PROJECT_BINARY_DIR}/daveConfig.cmake
  INSTALL_DESTINATION ${DAVE_CMAKE_INSTALL_DIR})
# 0.x: a minor version may break the embedding API.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/daveConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/daveConfig.cmake ${PROJECT_BINARY_DIR}/daveConfigVersion.cmake
  DESTINATION ${DAVE_CMAKE_INSTALL_DIR})
