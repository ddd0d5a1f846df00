# The "runtime" install component: the `dave` command (stripped), a sample
# config that works under the systemd unit, the unit, and the licence. See
# cmake/install.cmake for the layout.

install(TARGETS dave_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT runtime)

# The default install ships a stripped binary (the RelWithDebInfo one is
# ~55 MB, mostly debug info); `cmake --install --strip` does the same for
# every target, this makes it the default for the one that matters.
if(DAVE_INSTALL_STRIP)
  if(NOT CMAKE_STRIP)
    message(FATAL_ERROR "DAVE_INSTALL_STRIP is ON but no strip tool was found (CMAKE_STRIP)")
  endif()
  if(IS_ABSOLUTE "${CMAKE_INSTALL_BINDIR}")
    set(dave_installed_binary "${CMAKE_INSTALL_BINDIR}/dave")
  else()
    # Escaped: the prefix is the one given at install time (--prefix).
    set(dave_installed_binary "\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_BINDIR}/dave")
  endif()
  install(CODE "
    set(binary \"\$ENV{DESTDIR}${dave_installed_binary}\")
    message(STATUS \"Stripping: \${binary}\")
    execute_process(COMMAND \"${CMAKE_STRIP}\" \"\${binary}\" RESULT_VARIABLE failed)
    if(failed)
      message(FATAL_ERROR \"${CMAKE_STRIP} \${binary} failed\")
    endif()" COMPONENT runtime)
endif()

# The sample config, installed variant: conf/node.toml with the key and the
# backup under the unit's StateDirectory. Relative paths resolve beside the
# config, and /etc/dave is read-only to the sandboxed node.
set(dave_state_dir /var/lib/dave)
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/conf/node.toml)
file(READ ${PROJECT_SOURCE_DIR}/conf/node.toml dave_sample_config)
foreach(setting IN ITEMS "key_file = \"node.key\"" "backup_file = \"dave.backup\"")
  string(FIND "${dave_sample_config}" "\n${setting}\n" found)
  if(found EQUAL -1)
    message(FATAL_ERROR "conf/node.toml has no line '${setting}': update cmake/install_runtime.cmake")
  endif()
  string(REGEX REPLACE "^([a-z_]+) = \"([^\"]+)\"$" "\\1 = \"${dave_state_dir}/\\2\"" absolute
    "${setting}")
  string(REPLACE "\n${setting}\n" "\n${absolute}\n" dave_sample_config "${dave_sample_config}")
endforeach()
string(PREPEND dave_sample_config
  "# Installed sample config of a Dave node, for the systemd unit (dave.service):\n"
  "#   sudo install -D -m 0644 share/dave/node.toml /etc/dave/node.toml\n"
  "# The key and the backup are under ${dave_state_dir}, the unit's StateDirectory,\n"
  "# which the node can write; /etc/dave is read-only to it.\n#\n")
file(WRITE ${PROJECT_BINARY_DIR}/install/node.toml "${dave_sample_config}")
install(FILES ${PROJECT_BINARY_DIR}/install/node.toml
  DESTINATION ${CMAKE_INSTALL_DATADIR}/dave COMPONENT runtime)

# The unit, with ExecStart pointing at the installed binary (conf/dave.service
# says /usr/local/bin/dave, the default prefix). Written at install time so
# that --prefix is honoured.
set(dave_unit_source ${PROJECT_SOURCE_DIR}/conf/dave.service)
set(dave_unit_staged ${PROJECT_BINARY_DIR}/install/dave.service)
if(IS_ABSOLUTE "${CMAKE_INSTALL_BINDIR}")
  set(dave_unit_binary "${CMAKE_INSTALL_BINDIR}/dave")
else()
  set(dave_unit_binary "\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_BINDIR}/dave")
endif()
install(CODE "
  file(READ \"${dave_unit_source}\" unit)
  string(FIND \"\${unit}\" \"\\nExecStart=/usr/local/bin/dave \" found)
  if(found EQUAL -1)
    message(FATAL_ERROR \"${dave_unit_source} has no 'ExecStart=/usr/local/bin/dave ' line\")
  endif()
  string(REPLACE \"\\nExecStart=/usr/local/bin/dave \" \"\\nExecStart=${dave_unit_binary} \" unit \"\${unit}\")
  file(WRITE \"${dave_unit_staged}\" \"\${unit}\")
  file(INSTALL DESTINATION \"\${CMAKE_INSTALL_PREFIX}/lib/systemd/system\" TYPE FILE
    PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ FILES \"${dave_unit_staged}\")"
  COMPONENT runtime)

install(FILES ${PROJECT_SOURCE_DIR}/LICENSE ${PROJECT_SOURCE_DIR}/README.md
  DESTINATION ${CMAKE_INSTALL_DOCDIR} COMPONENT runtime)
