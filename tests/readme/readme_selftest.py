"""The `readme_selftest` test: the `readme` test catches a README that lies.

Runs readme_test.py on a small README written here, whose blocks make true
and false claims of every kind it checks (prints, lines, says, exit code, an
HTTP status and a JSON answer from a real node, a config, a C++ block the
build did not compile, a skipped block, repository paths), and checks that it fails on exactly
the false ones, naming their lines.

    python3 readme_selftest.py --dave DAVE --config-check CHECK --source REPO
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))

# Each line that must be reported ends in "<- false"; the test strips that.
FIXTURE = """\
# A README with true and false claims

The sample config is `conf/node.toml`; the walkthrough makes `conf/node.key`.
The config is not `conf/no-such.toml`.  <- false

## Commands

```sh
echo world                      # prints: world
echo hello                      # prints: world  <- false
printf 'k0\\tv\\nk1\\tv\\n'         # prints 2 lines "kN<TAB>v"
printf 'k0\\tv\\n'                 # prints 2 lines "kN<TAB>v"  <- false
printf 'k0\\tv\\nk5\\tv\\n'         # prints 2 lines "kN<TAB>v"  <- false
false                           # exit code 1
false                           # fails, and says nothing about it  <- false
sh -c 'exit 3'                  # exit code 2  <- false
echo 'a; b' >&2                 # exit code 0; says: a; b
echo a                          # says: b  <- false
X=kept
echo "$X"                       # prints: kept
```

```bash
echo bash                       # prints: sh  <- false
```

<!-- readme-test: skip: shows that a skipped block is not run -->
```sh
false
bash scripts/setup.sh
bash scripts/no-such-script.sh  <- false
```

## A node

```sh
build/dave node --config conf/node.toml   # keeps running (Ctrl-C stops it)
```

```sh
build/dave put hello world
build/dave get hello                # prints: world
build/dave get hello                # prints: word  <- false
build/dave get nothing-here         # exit code 1; says: not found
curl -s 127.0.0.1:8080/status       # JSON
curl -s 127.0.0.1:8080/no-such-page # an answer  <- false
curl -s 127.0.0.1:8080/no-such-page # status 404
```

In prose, `curl -s 127.0.0.1:8080/metrics` works and
`curl -s 127.0.0.1:8080/nothing` does not.  <- false

## Config and code

```toml
[store]
shard_capacity = "4 MiB"
```

```toml
[store]
shard_capacity = "-1 MiB"  <- false
```

```json
{"time":"2026-11-29T23:59:01.123Z","level":"info"}
{"time":"2026-11-29T23:59:01.123Z","level":"info" <- false
```

```cpp
int answer() { return 42; }  <- false
```
"""


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dave", required=True)
    parser.add_argument("--config-check", required=True)
    parser.add_argument("--source", required=True)
    args = parser.parse_args()

    lines = FIXTURE.split("\n")
    expected = set()
    for number, line in enumerate(lines, 1):
        if line.endswith("<- false"):
            expected.add(number)
            lines[number - 1] = line[: -len("<- false")].rstrip()
    with tempfile.TemporaryDirectory(prefix="dave-readme-selftest-") as work:
        readme = os.path.join(work, "README.md")
        with open(readme, "w") as f:
            f.write("\n".join(lines))
        snippets = os.path.join(work, "snippets")  # nothing compiled
        os.makedirs(snippets)
        result = subprocess.run(
            [sys.executable, os.path.join(HERE, "readme_test.py"), "--readme", readme,
             "--source", args.source, "--dave", args.dave, "--config-check", args.config_check,
             "--snippets", snippets],
            capture_output=True, text=True, timeout=600)
    print(result.stdout)
    print(result.stderr, file=sys.stderr)
    reported = {int(n) for n in re.findall(r"^FAIL README\.md:(\d+):", result.stdout, re.M)}
    ok = True
    if result.returncode != 1:
        print(f"selftest: readme_test.py exited {result.returncode}, expected 1")
        ok = False
    if reported != expected:
        print(f"selftest: false claims not reported on lines {sorted(expected - reported)}; "
              f"true ones reported on lines {sorted(reported - expected)}")
        ok = False
    if "skipped README.md:" not in result.stdout:
        print("selftest: the skipped block was not reported as skipped")
        ok = False
    print("selftest: " + ("every false claim caught, no true one" if ok else "FAILED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
