# Sourced by setup.sh, sanitize.sh and fuzz.sh: when ccache is installed,
# `compiler_cache` holds the CMake options that compile through it, else
# nothing. A second `bash scripts/test.sh` then rebuilds only what changed in
# each of its builds (normal, fuzz, ASan+UBSan, and TSan with DAVE_TSAN=1).
#
# The cache is ccache's own (~/.cache/ccache; CCACHE_DIR moves it). Paths in
# the compiler's command line are made relative to the project (base_dir) and
# the build folder's path is left out of the hash (no_hash_dir: the debug
# information then names the folder the object was first built in), so a
# clone in another folder reuses the same cache. DAVE_CCACHE=0 turns it off.
compiler_cache=()
if [[ ${DAVE_CCACHE:-1} != 0 ]] && command -v ccache >/dev/null; then
  export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$PWD}
  export CCACHE_NOHASHDIR=${CCACHE_NOHASHDIR:-1}
  compiler_cache=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi
