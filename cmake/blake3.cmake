# BLAKE3 from the official C sources Debian ships in librust-blake3-dev, with
# the x86-64 SIMD assembly and the library's own run-time dispatch.
file(GLOB BLAKE3_SOURCE_DIRS LIST_DIRECTORIES true /usr/share/cargo/registry/blake3-*/c)
list(SORT BLAKE3_SOURCE_DIRS)
list(GET BLAKE3_SOURCE_DIRS -1 BLAKE3_SOURCE_DIR)
if(NOT EXISTS "${BLAKE3_SOURCE_DIR}/blake3.h")
  message(FATAL_ERROR "BLAKE3 C sources not found; install librust-blake3-dev")
endif()

add_library(blake3 STATIC
  ${BLAKE3_SOURCE_DIR}/blake3.c
  ${BLAKE3_SOURCE_DIR}/blake3_dispatch.c
  ${BLAKE3_SOURCE_DIR}/blake3_portable.c
  ${BLAKE3_SOURCE_DIR}/blake3_sse2_x86-64_unix.S
  ${BLAKE3_SOURCE_DIR}/blake3_sse41_x86-64_unix.S
  ${BLAKE3_SOURCE_DIR}/blake3_avx2_x86-64_unix.S
  ${BLAKE3_SOURCE_DIR}/blake3_avx512_x86-64_unix.S)
target_include_directories(blake3 SYSTEM PUBLIC $<BUILD_INTERFACE:${BLAKE3_SOURCE_DIR}>)
# Installed beside dave's libraries: a name that cannot clash with a BLAKE3
# installation's own libblake3.
set_target_properties(blake3 PROPERTIES OUTPUT_NAME dave_blake3 EXPORT_NAME blake3)
# Third-party code: no project warnings; sanitizers of the assembly are moot.
target_compile_options(blake3 PRIVATE -w)
