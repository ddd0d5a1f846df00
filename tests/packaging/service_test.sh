#!/usr/bin/env bash
# packaging_service: the systemd unit is sound and sandboxed, and the installed
# node runs the way the unit runs it.
#
#   service_test.sh CMAKE BUILD_DIR UNIT [SANITIZE]
#
# 1. `systemd-analyze security --offline=true UNIT` rates it 2.5 or better.
# 2. `cmake --install` into a temporary prefix; `systemd-analyze verify` finds
#    nothing to say about the installed unit (its ExecStart is that prefix's
#    binary, which must exist).
# 3. A rehearsal of the unit's sandbox without systemd (which is not PID 1 in
#    a container): in a private mount namespace, /var/lib is empty, the config
#    dir is read-only, the node runs as an unprivileged user with umask 077
#    from the installed sample config. Its key and backup must appear in
#    /var/lib/dave, a put/get must work, SIGTERM must end it with exit 0.
# Exit 77 (skipped) without systemd-analyze; step 3 is skipped, with a reason,
# when not root or without unshare/setpriv, and its system-call check in a
# sanitizer build (whose runtime makes calls of its own, e.g. setrlimit).
set -euo pipefail

if [[ $# -lt 3 ]]; then
  echo "usage: $0 CMAKE BUILD_DIR UNIT [SANITIZE]" >&2
  exit 2
fi
cmake=$1 build=$2 unit=$3 sanitize=${4:-}
max_exposure=2.5

fail() {
  echo "packaging_service: FAIL: $*" >&2
  exit 1
}

if ! command -v systemd-analyze >/dev/null; then
  echo "packaging_service: skipped: systemd-analyze is not installed"
  exit 77
fi

echo "== systemd-analyze security --offline=true $unit"
report=$(systemd-analyze security --offline=true "$unit" 2>&1) || true
overall=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\) .*/\1/p' <<<"$report")
[[ -n "$overall" ]] || { echo "$report" >&2; fail "no overall exposure level in the report"; }
echo "exposure: $overall (at most $max_exposure)"
# --threshold is in tenths; it fails when the exposure is above it.
systemd-analyze security --offline=true --threshold=25 "$unit" >/dev/null 2>&1 ||
  { grep '✗' <<<"$report" >&2; fail "exposure $overall is above $max_exposure"; }

work=$(mktemp -d "${TMPDIR:-/tmp}/dave-service.XXXXXX")
chmod 0755 "$work" # the unprivileged node of step 3 reads the prefix and config
if [[ -z "${DAVE_KEEP_TMP:-}" ]]; then
  trap 'rm -rf "$work"' EXIT
else
  echo "keeping $work"
fi
prefix=$work/prefix

echo "== cmake --install $build --prefix $prefix"
"$cmake" --install "$build" --prefix "$prefix" >"$work/install.log" ||
  { cat "$work/install.log" >&2; fail "cmake --install failed"; }
installed_unit=$prefix/lib/systemd/system/dave.service
[[ -f "$installed_unit" ]] || fail "the unit is not installed at $installed_unit"

echo "== systemd-analyze verify $installed_unit"
if ! verify=$(systemd-analyze verify "$installed_unit" 2>&1) || [[ -n "$verify" ]]; then
  echo "$verify" >&2
  fail "systemd-analyze verify complained"
fi

# What step 3 relies on, stated in the unit.
for line in "StateDirectory=dave" "ConfigurationDirectory=dave" "DynamicUser=yes" "UMask=0077" \
  "ExecStart=$prefix/bin/dave node --config /etc/dave/node.toml"; do
  grep -qx "$line" "$installed_unit" || fail "the installed unit has no line '$line'"
done

echo "== the node in a rehearsal of the unit's sandbox"
missing=
for tool in unshare setpriv strace curl python3; do
  command -v $tool >/dev/null || missing+=" $tool"
done
if [[ $(id -u) -ne 0 || -n "$missing" ]]; then
  echo "packaging_service: rehearsal skipped: it needs root (this is uid $(id -u)) and unshare," \
    "setpriv, strace, curl, python3 (missing:${missing:- none})"
  echo "packaging_service: ok"
  exit 0
fi

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
http_port=$(free_port)
# The installed sample, with only the ports changed so the test cannot clash
# with a node on this machine: its key_file and backup_file are untouched, and
# it still listens on every address ([::]), so the node asks the kernel for
# its own addresses (netlink), as an installed node does.
etc=$work/etc/dave
mkdir -p "$etc"
sed -e 's/^listen = "\[::\]:1618"$/listen = "[::]:0"/' \
  -e "s/^listen = \"127.0.0.1:8080\"$/listen = \"127.0.0.1:$http_port\"/" \
  "$prefix/share/dave/node.toml" >"$etc/node.toml"
if ! grep -qxF 'listen = "[::]:0"' "$etc/node.toml" ||
  ! grep -qxF "listen = \"127.0.0.1:$http_port\"" "$etc/node.toml"; then
  fail "could not set the ports in the sample config"
fi
chmod 0644 "$etc/node.toml"

nobody=65534
dave=$prefix/bin/dave
install -d -o $nobody "$work/out" # the trace
# Runs in a private mount namespace as root, then drops to $nobody for the node
# and the commands, as DynamicUser would.
rehearsal=$(
  cat <<SCRIPT
set -euo pipefail
mount -t tmpfs -o mode=0755 tmpfs /var/lib
install -d -m 0700 -o $nobody -g $nobody /var/lib/dave   # StateDirectory=dave
mount --bind "$etc" "$etc" && mount -o remount,bind,ro "$etc"  # ConfigurationDirectory=
as_user=(setpriv --reuid=$nobody --regid=$nobody --clear-groups --inh-caps=-all
  --bounding-set=-all --no-new-privs)
cd /var/lib/dave
umask 077
# Under strace, to compare its system calls and sockets with the unit's filters.
"\${as_user[@]}" strace -f -qq -o "$work/out/trace" "$dave" node --config "$etc/node.toml" \
  >"$work/node.log" 2>&1 &
tracer=\$!
trap 'kill -KILL \$tracer 2>/dev/null || true' EXIT
# strace forks short-lived children of its own to probe the kernel's ptrace
# features before it starts the node; only a child that runs dave is the node.
node=
for _ in \$(seq 50); do
  node=\$(pgrep -P \$tracer -x dave) && break
  sleep 0.1
done
[[ -n "\$node" ]] || { echo "the node did not start under strace"; exit 1; }
up=
for _ in \$(seq 100); do
  curl -fs "http://127.0.0.1:$http_port/status" >/dev/null && up=1 && break
  kill -0 \$node 2>/dev/null || { echo "the node exited:"; cat "$work/node.log"; exit 1; }
  sleep 0.2
done
[[ -n "\$up" ]] || { echo "the node's API did not answer within 20 s:"; cat "$work/node.log"; exit 1; }
curl -fs "http://127.0.0.1:$http_port/metrics" >/dev/null   # reads /proc/self
"\${as_user[@]}" "$dave" put hello sandboxed --config "$etc/node.toml"
value=\$("\${as_user[@]}" "$dave" get hello --config "$etc/node.toml")
[[ "\$value" == sandboxed ]] || { echo "get printed '\$value'"; exit 1; }
kill -TERM \$node
status=0
wait \$tracer || status=\$?   # strace exits with the node's status
[[ \$status -eq 0 ]] || { echo "the node exited \$status on SIGTERM:"; cat "$work/node.log"; exit 1; }
stat -c '%n %a %u' /var/lib/dave/node.key /var/lib/dave/dave.backup
[[ \$(stat -c '%a %u' /var/lib/dave/node.key) == "600 $nobody" ]] || { echo "node.key: wrong mode/owner"; exit 1; }
[[ \$(stat -c '%s' /var/lib/dave/dave.backup) -gt 0 ]] || { echo "dave.backup is empty"; exit 1; }
grep -q sandboxed /var/lib/dave/dave.backup || { echo "dave.backup does not hold the put"; exit 1; }
SCRIPT
)
if ! unshare --mount --propagation private bash -c "$rehearsal"; then
  fail "the node did not run in the rehearsal of the unit's sandbox"
fi
[[ $(ls "$etc") == node.toml ]] || fail "the node wrote beside its config: $(ls "$etc")"

echo "== the node's system calls, sockets and /proc files against the unit's filters"
if [[ -n "$sanitize" ]]; then
  echo "packaging_service: system-call check skipped: the sanitizer runtime ($sanitize) makes calls of its own"
  echo "packaging_service: ok"
  exit 0
fi
# expand GROUP...: the system calls in systemd's groups (@name), recursively.
expand() {
  local item
  for item in "$@"; do
    if [[ $item == @* ]]; then
      local members
      mapfile -t members < <(systemd-analyze syscall-filter "$item" | tail -n +2 |
        sed 's/^ *//' | grep -v -e '^#' -e '^$')
      expand "${members[@]}"
    else
      echo "$item"
    fi
  done
}
allowed=() denied=()
while IFS= read -r filter; do
  if [[ $filter == '~'* ]]; then
    read -ra names <<<"${filter#'~'}"
    denied+=("${names[@]}")
  else
    read -ra names <<<"$filter"
    allowed+=("${names[@]}")
  fi
done < <(sed -n 's/^SystemCallFilter=//p' "$installed_unit")
expand "${allowed[@]}" | sort -u >"$work/allowed"
expand "${denied[@]}" | sort -u >"$work/denied"
used=$(sed -nE 's/^[0-9]+ +([a-z0-9_]+)\(.*/\1/p' "$work/out/trace" | sort -u)
[[ $(wc -l <<<"$used") -gt 20 ]] || fail "strace recorded too few system calls: $used"
outside=$(comm -23 <(echo "$used") <(comm -23 "$work/allowed" "$work/denied"))
[[ -z "$outside" ]] || fail "the node makes system calls the unit's SystemCallFilter forbids: $(echo "$outside" | tr '\n' ' ')"
families=$(sed -nE 's/^[0-9]+ +socket\((AF_[A-Z0-9]+).*/\1/p' "$work/out/trace" | sort -u)
for family in $families; do
  grep -qE "^RestrictAddressFamilies=.*\b$family\b" "$installed_unit" ||
    fail "the node opens $family sockets, which RestrictAddressFamilies= forbids"
done
# glibc's malloc reads /proc/sys/vm/overcommit_memory when it shrinks a
# thread's heap; where it cannot, it assumes no strict overcommit, which is
# only a choice between two ways of returning memory.
proc=$(grep -oE '"/proc/[^"]*"' "$work/out/trace" | tr -d '"' | sort -u |
  grep -vE '^/proc/(self|thread-self|[0-9]+)(/|$)' | grep -vx /proc/sys/vm/overcommit_memory || true)
[[ -z "$proc" ]] || fail "the node reads /proc files that ProcSubset=pid hides: $(echo "$proc" | tr '\n' ' ')"
echo "$(wc -l <<<"$used") system calls, sockets: $(tr '\n' ' ' <<<"$families")all allowed"
echo "packaging_service: ok"
