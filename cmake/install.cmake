# `cmake --install BUILD --prefix P` installs the `dave` command and what an
# operator needs to run it (component "runtime"):
#
#   P/bin/dave                            stripped (DAVE_INSTALL_STRIP, default ON)
#   P/share/dave/node.toml                sample config, key and backup under /var/lib/dave
#   P/lib/systemd/system/dave.service     ExecStart = P/bin/dave
#   P/share/doc/dave/LICENSE, README.md
#
# What a host application needs to embed a node is component "devel", left out
# of a default install (the static libraries are over 100 MB):
# `cmake --install BUILD --prefix P --component devel`, or configure with
# -DDAVE_INSTALL_DEVEL=ON to install it by default too:
#
#   P/include/dave/{codec,crypto,model,messages,node}/*.hpp   include dir P/include/dave
#   P/lib/libdave.a libdave_actors.a libdave_model.a libdave_crypto.a libdave_codec.a
#       libdave_blake3.a
#   P/lib/cmake/dave/daveConfig.cmake, daveConfigVersion.cmake, daveTargets*.cmake
#
# A consumer writes find_package(dave REQUIRED) and links dave::dave.
option(DAVE_INSTALL_DEVEL "Install the libraries, headers and CMake package by default" OFF)
# A packager that splits debug symbols off itself (dh_strip) turns this off.
option(DAVE_INSTALL_STRIP "Strip the installed dave binary" ON)
if(DAVE_INSTALL_DEVEL)
  set(DAVE_DEVEL_EXCLUDE "")
else()
  set(DAVE_DEVEL_EXCLUDE EXCLUDE_FROM_ALL)
endif()

include(CMakePackageConfigHelpers)

set(DAVE_CMAKE_INSTALL_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/dave)

set_target_properties(dave_codec PROPERTIES EXPORT_NAME codec)
set_target_properties(dave_crypto PROPERTIES EXPORT_NAME crypto)
set_target_properties(dave_messages PROPERTIES EXPORT_NAME messages)

install(TARGETS dave_lib dave_actors dave_messages dave_model dave_crypto dave_codec blake3
  EXPORT daveTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT devel ${DAVE_DEVEL_EXCLUDE})
include(cmake/install_runtime.cmake)

# The public headers keep their paths from the project root. No public header
# includes actors/ (the node's internals); the packaging test checks that every
# quoted include of an installed header is installed too.
foreach(directory IN ITEMS codec crypto model messages node)
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/${directory}/
    DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/dave/${directory}
    COMPONENT devel ${DAVE_DEVEL_EXCLUDE}
    FILES_MATCHING PATTERN "*.hpp"
    PATTERN "cli" EXCLUDE
    # spawn_node's translation to the actors' setup structs: internal.
    PATTERN "actor_settings.hpp" EXCLUDE)
endforeach()

install(EXPORT daveTargets NAMESPACE dave:: DESTINATION ${DAVE_CMAKE_INSTALL_DIR}
  COMPONENT devel ${DAVE_DEVEL_EXCLUDE})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/daveConfig.cmake.in
  ${PROJECT_BINARY_DIR}/daveConfig.cmake
  INSTALL_DESTINATION ${DAVE_CMAKE_INSTALL_DIR})
# 0.x: a minor version may break the embedding API.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/daveConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/daveConfig.cmake ${PROJECT_BINARY_DIR}/daveConfigVersion.cmake
  DESTINATION ${DAVE_CMAKE_INSTALL_DIR} COMPONENT devel ${DAVE_DEVEL_EXCLUDE})
