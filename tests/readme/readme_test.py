"""The `readme` test: README.md is true when what it shows runs.

Every fenced block of README.md is checked by its language:

  ```sh    Run, in order, by bash in a scratch folder laid out like the
           repository: conf/ is a copy of the repository's conf/ (keys and
           backups left out) and build/dave is the dave under test. The one
           rewrite: every port in the copied configs is replaced by a free
           one (so the test runs beside others), and the same ports in the
           commands and their claims are replaced likewise (127.0.0.1:8080
           -> the new port).
           So conf/cluster/start.sh runs as written, on the copied configs
           (no DAVE_CLUSTER_* overrides). Each command must exit 0 unless its
           comment claims otherwise. A command's trailing comment is split
           into clauses at each "; " that a claim follows; these claims are
           checked, any other text is for the reader:
             prints: TEXT          stdout is exactly TEXT (<TAB> is a tab)
             prints N lines "T"    stdout has N lines; with "T", line i is
                                   T with its N replaced by i (e.g. "keyN")
             exit code N           the exit status is N
             says: TEXT            stdout or stderr contains TEXT
             status NNN            (curl) the HTTP status is NNN; else 2xx
             keeps running (Ctrl-C stops it)
                                   a server: started in the background;
                                   the next command runs once the nodes it
                                   starts answer (a --config FILE, or every
                                   *.toml beside the script) and, when
                                   several, each has the others as active
                                   peers. It keeps running for the blocks
                                   after it (a curl line further down asks
                                   the walkthrough's node) and must exit
                                   cleanly on Ctrl-C (SIGINT) at the end.
           curl runs with -w reporting the HTTP status and content type; a
           JSON answer must parse, a Prometheus one must be well formed.
           A `curl ...` quoted in the prose runs too (after the blocks, while
           their nodes run), as a block's curl line without claims.
  ```toml  Loaded by the node's own config loader (readme_config_check).
  ```cpp   Compiled by the build (CMakeLists.txt here: a block with main()
           is linked against dave_lib); the test checks that the build
           compiled the blocks README.md has now.
  other    Not checked (log samples and the like).

Outside the blocks (and in skipped blocks), every `path` in backquotes that
starts with a folder of the repository (conf/, scripts/, tests/readme ...)
must exist in the repository, or, like conf/node.key, once the walkthrough
ran. Build folders (build/, build-test/ ...) are not checked.

By hand: ctest --test-dir build-test -R '^readme$' -V; or run this script
with the arguments ctest shows, plus --transcript FILE for a terminal's view
of the walkthrough (each command and what it printed), --keep to keep the
scratch folder.

A "<!-- readme-test: skip: REASON -->" line just before a fence skips that
block with its reason printed (for installing packages or running the whole
suite). Failures name the README line.
"""

import argparse
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import tomllib
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import readme_blocks  # noqa: E402

SERVER_CLAIM = re.compile(r"keeps running \(Ctrl-C stops it\)")
PRINTS = re.compile(r"^prints: (.*)$")
PRINTS_LINES = re.compile(r'^prints ([0-9][0-9,]*) lines(?: "(.*)")?')
EXIT_CODE = re.compile(r"^exit code (\d+)$")
SAYS = re.compile(r"^says: (.*)$")
STATUS = re.compile(r"^status (\d{3})$")
CURL_MARK = re.compile(r"^readme-test: HTTP (\d{3}) ?(.*)$", re.M)
PROMETHEUS_LINE = re.compile(
    r"^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-zA-Z_][a-zA-Z0-9_]*=\"(\\.|[^\"\\])*\""
    r"(,[a-zA-Z_][a-zA-Z0-9_]*=\"(\\.|[^\"\\])*\")*,?\})? \S+( \d+)?$"
)

COMMAND_TIMEOUT = 300  # seconds for one block's commands (a loaded machine)
READY_TIMEOUT = 90  # for a server's nodes to answer and see each other
STOP_TIMEOUT = 60  # for a server to exit after Ctrl-C

failures = []
transcript = []  # what --transcript writes: each command and what it printed


def record(command, rc, out, err):
    """A terminal's view of one command: stdout and stderr, long outputs
    shortened (but for the lines its claims quote), a progress bar's
    carriage returns resolved."""
    lines = [text.split("\r")[-1] for text in (out + err).rstrip("\n").split("\n") if text]
    quoted = [m.group(1) for c in claims_of(command) if (m := SAYS.match(c))]
    if len(lines) > 14:
        middle = [t for t in lines[10:-2] if any(q in t for q in quoted)]
        lines = (lines[:10] + [f"... ({len(lines) - 12 - len(middle)} more lines)"] + middle
                 + lines[-2:])
    transcript.append("$ " + command.text + "\n" + "".join(t + "\n" for t in lines)
                      + (f"[exit code {rc}]\n" if rc else ""))


def fail(line, message):
    failures.append(f"README.md:{line}: {message}")
    print(f"FAIL README.md:{line}: {message}", flush=True)


# ---------------------------------------------------------------- ports


def port_free(port, udp_too):
    """Whether TCP `port` (and, for a node, UDP `port` and TCP port + 1) can
    be bound on every address now."""
    wanted = [(socket.SOCK_STREAM, port)]
    if udp_too:
        wanted = [(socket.SOCK_DGRAM, port), (socket.SOCK_STREAM, port + 1)]
    for kind, number in wanted:
        with socket.socket(socket.AF_INET6, kind) as s:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
            try:
                s.bind(("::", number))
            except OSError:
                return False
    return True


def choose_ports(ports, udp_too, taken):
    """New ports for `ports`, keeping the distances within each group of
    nearby ports (a cluster's 1620/1622/1624 become B, B+2, B+4), clear of
    `taken` and of the ephemeral range."""
    groups = []
    for port in sorted(ports):
        if groups and port - groups[-1][-1] < 100:
            groups[-1].append(port)
        else:
            groups.append([port])
    mapping = {}
    for group in groups:
        mapping.update(choose_group(group, udp_too, taken))
    return mapping


def choose_group(ports, udp_too, taken):
    span = ports[-1] - ports[0] + 2
    for _ in range(2000):
        base = random.randrange(12000, 30000 - span)
        mapped = {p: base + p - ports[0] for p in ports}
        used = set(mapped.values()) | {v + 1 for v in mapped.values()}
        if used & taken:
            continue
        if all(port_free(q, udp_too) for q in mapped.values()):
            taken |= used
            return mapped
    raise RuntimeError("no free ports found")


LISTEN_LINE = re.compile(r'^(\s*(?:listen|edges)\s*=.*)$', re.M)
PORT_IN_TEXT = re.compile(r"(?<=:)(\d{2,5})(?!\d)")


def rewrite_ports(text, mapping):
    return PORT_IN_TEXT.sub(lambda m: str(mapping.get(int(m.group(1)), m.group(1))), text)


def prepare_root(source, dave, root):
    """root/conf: a copy of conf/ without keys or backups, ports rewritten;
    root/build/dave: the dave under test. Returns the port mapping."""
    shutil.copytree(
        os.path.join(source, "conf"),
        os.path.join(root, "conf"),
        ignore=shutil.ignore_patterns("*.key", "*.backup", "*.backup.*"),
    )
    os.makedirs(os.path.join(root, "build"))
    os.symlink(dave, os.path.join(root, "build", "dave"))
    configs = []
    for folder, _, files in os.walk(os.path.join(root, "conf")):
        configs += [os.path.join(folder, f) for f in files if f.endswith(".toml")]
    node_ports, http_ports = set(), set()
    for path in configs:
        with open(path, "rb") as f:
            config = tomllib.load(f)
        for address in [config.get("node", {}).get("listen", "")] + config.get("node", {}).get(
            "edges", []
        ):
            node_ports |= {int(p) for p in PORT_IN_TEXT.findall(address)}
        http_listen = config.get("http", {}).get("listen", "")
        http_ports |= {int(p) for p in PORT_IN_TEXT.findall(http_listen)}
    node_ports.discard(0)
    http_ports.discard(0)
    taken = set()
    mapping = choose_ports(node_ports, True, taken)
    mapping.update(choose_ports(http_ports - node_ports, False, taken))
    for path in configs:
        with open(path, encoding="utf-8") as f:
            text = f.read()
        text = LISTEN_LINE.sub(lambda m: rewrite_ports(m.group(1), mapping), text)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
    return mapping


# ---------------------------------------------------------------- nodes


def http_of(config_path):
    with open(config_path, "rb") as f:
        listen = tomllib.load(f).get("http", {}).get("listen", "127.0.0.1:8080")
    if not listen:
        return None
    host, _, port = listen.rpartition(":")
    host = host.strip("[]") or "127.0.0.1"
    if host in ("::", "0.0.0.0"):
        host = "127.0.0.1"
    return f"[{host}]" if ":" in host else host, int(port)


def status_of(http):
    host, port = http
    try:
        with urllib.request.urlopen(f"http://{host}:{port}/status", timeout=5) as reply:
            return json.load(reply)
    except (OSError, ValueError):
        return None


def active_peers(status):
    peers = status.get("peers", 0)
    return int(peers.get("active", 0)) if isinstance(peers, dict) else 0


def wait_ready(server, configs, line):
    """Waits until every node of `configs` answers /status and, when there
    are several, has the others as active peers."""
    https = [h for h in (http_of(c) for c in configs) if h]
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if server.poll() is not None:
            fail(line, f"the server exited with {server.returncode} before its nodes answered")
            return False
        statuses = [status_of(h) for h in https]
        if all(s is not None for s in statuses) and all(
            active_peers(s) >= len(https) - 1 for s in statuses
        ):
            return True
        time.sleep(0.5)
    fail(line, f"its nodes ({', '.join(configs)}) were not all up with active peers within "
         f"{READY_TIMEOUT} s")
    return False


class Server:
    def __init__(self, command, root, env, logs):
        self.command = command
        self.log_path = os.path.join(logs, f"server-{command.line}.log")
        self.log = open(self.log_path, "wb")
        self.process = subprocess.Popen(
            ["bash", "-c", command.text],
            cwd=root,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def configs(self, root):
        words = self.command.text.split()
        if "--config" in words and words.index("--config") + 1 < len(words):
            return [os.path.join(root, words[words.index("--config") + 1])]
        folder = os.path.dirname(os.path.join(root, words[0]))
        return sorted(
            os.path.join(folder, f) for f in os.listdir(folder) if f.endswith(".toml")
        )

    def log_tail(self):
        with open(self.log_path, "rb") as f:
            return f.read()[-3000:].decode(errors="replace")

    def stop(self):
        """Ctrl-C, as the README says; it must exit cleanly."""
        line = self.command.line
        if self.process.poll() is not None:
            fail(line, f"the server had already exited ({self.process.returncode}):\n"
                 + self.log_tail())
            self.log.close()
            return
        os.killpg(self.process.pid, signal.SIGINT)
        try:
            code = self.process.wait(STOP_TIMEOUT)
            if code not in (0, 130):
                fail(line, f"exited with {code} on Ctrl-C:\n" + self.log_tail())
        except subprocess.TimeoutExpired:
            fail(line, f"still running {STOP_TIMEOUT} s after Ctrl-C")
        # Nothing it started may outlive it (a moment first, so that the
        # log pipes it left behind, e.g. start.sh's sed, are flushed).
        time.sleep(1)
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait()
        self.log.close()


def sweep_leftovers(work):
    """Kills what the README's commands left running in the scratch folder
    (a node a script did not stop on Ctrl-C: it may run in a session of its
    own), found by its working folder; each one is a failure."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            folder = os.readlink(f"/proc/{entry}/cwd")
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                command = f.read().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            continue
        if folder == work or folder.startswith(work + os.sep):
            try:
                os.kill(int(entry), signal.SIGKILL)
            except ProcessLookupError:
                continue
            fail(0, f"left running after the servers stopped: pid {entry}: {command}")


# ---------------------------------------------------------------- commands


# A comment is split into clauses at "; " before a claim's first words, so
# a quoted message may itself contain "; ".
CLAUSE_SPLIT = re.compile(r";\s+(?=(?:prints|exit code|says|status|keeps running)\b)")


def claims_of(command):
    return [c.strip() for c in CLAUSE_SPLIT.split(command.comment) if c.strip()]


def is_curl(command):
    return re.match(r"^\s*curl\s", command.text) is not None


def check_body(command, body, content_type):
    if not body.strip():
        fail(command.line, "curl: the answer is empty")
    elif content_type.startswith("application/json"):
        try:
            json.loads(body)
        except ValueError as e:
            fail(command.line, f"curl: the answer is not JSON ({e}): {body[:200]!r}")
    elif "version=0.0.4" in content_type:
        for number, text in enumerate(body.splitlines(), 1):
            if text and not text.startswith("#") and not PROMETHEUS_LINE.match(text):
                fail(command.line, f"curl: line {number} is not Prometheus text: {text!r}")
                break


def check(command, rc, out, err):
    """The command's outcome against the README's claims about it."""
    line = command.line
    expected_rc = 0
    curl_marks = CURL_MARK.findall(err)
    err = CURL_MARK.sub("", err)
    expected_status = None
    for claim in claims_of(command):
        if m := EXIT_CODE.match(claim):
            expected_rc = int(m.group(1))
        elif m := STATUS.match(claim):
            expected_status = m.group(1)
    if rc != expected_rc:
        fail(line, f"`{command.text}` exited with {rc}, README says {expected_rc}\n"
             f"  stdout: {out[-1500:]!r}\n  stderr: {err[-1500:]!r}")
        return
    for claim in claims_of(command):
        if m := PRINTS.match(claim):
            want = m.group(1).replace("<TAB>", "\t")
            if out.rstrip("\n") != want:
                fail(line, f"prints {out.rstrip(chr(10))[:500]!r}, README says {want!r}")
        elif m := PRINTS_LINES.match(claim):
            count = int(m.group(1).replace(",", ""))
            lines = out.splitlines()
            if len(lines) != count:
                fail(line, f"prints {len(lines)} lines, README says {count}")
            elif m.group(2):
                template = m.group(2).replace("<TAB>", "\t")
                for i, text in enumerate(lines):
                    if text != template.replace("N", str(i)):
                        fail(line, f"line {i + 1} is {text!r}, README says "
                             f"{template.replace('N', str(i))!r}")
                        break
        elif m := SAYS.match(claim):
            if m.group(1).replace("<TAB>", "\t") not in out + err:
                fail(line, f"does not say {m.group(1)!r}; it said:\n  stdout: {out[-800:]!r}\n"
                     f"  stderr: {err[-800:]!r}")
    if is_curl(command):
        if not curl_marks:
            fail(line, "curl reached no server")
        for status, content_type in curl_marks:
            if expected_status and status != expected_status:
                fail(line, f"HTTP {status}, README says {expected_status}")
            elif not expected_status and not status.startswith("2"):
                fail(line, f"HTTP {status}: {out[:300]!r}")
        # The body of a success is checked; an expected error's is the server's.
        if (
            "|" not in command.text
            and ">" not in command.text
            and curl_marks
            and curl_marks[-1][0].startswith("2")
        ):
            check_body(command, out, curl_marks[-1][1])


def run_commands(commands, root, env, work, first_line):
    """Runs commands in one bash (so variables and cd carry over, as in a
    terminal), each with its own stdout, stderr and exit status."""
    script = ["set +e"]
    for i, command in enumerate(commands):
        script.append(f'{{\n{command.text}\n}} >"$RT/out.{i}" 2>"$RT/err.{i}" </dev/null')
        script.append(f'echo $? >"$RT/rc.{i}"')
    run_dir = tempfile.mkdtemp(dir=work, prefix=f"block-{first_line}-")
    shell = subprocess.Popen(["bash", "-c", "\n".join(script)], cwd=root,
                             env=dict(env, RT=run_dir), stdin=subprocess.DEVNULL,
                             start_new_session=True)
    try:
        shell.wait(COMMAND_TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(shell.pid, signal.SIGKILL)  # the hung command and all it started
        shell.wait()
    for i, command in enumerate(commands):
        rc_path = os.path.join(run_dir, f"rc.{i}")
        if not os.path.exists(rc_path):
            fail(command.line, f"`{command.text}` did not finish within {COMMAND_TIMEOUT} s")
            return
        def read(name):
            # newline="": a progress bar's \r stays as it was printed.
            with open(os.path.join(run_dir, f"{name}.{i}"), errors="replace", newline="") as f:
                return f.read()

        print(f"  README.md:{command.line}: {command.text.splitlines()[0]}", flush=True)
        check(command, int(read("rc")), read("out"), read("err"))
        record(command, int(read("rc")), read("out"), CURL_MARK.sub("", read("err")))


def run_sh_blocks(readme, blocks, source, dave, work):
    root = os.path.join(work, "root")
    os.makedirs(root)
    mapping = prepare_root(source, dave, root)
    print(f"ports rewritten: {mapping}", flush=True)
    bin_dir = os.path.join(work, "bin")
    os.makedirs(bin_dir)
    real_curl = shutil.which("curl")
    if real_curl:
        shim = os.path.join(bin_dir, "curl")
        with open(shim, "w") as f:
            f.write("#!/bin/sh\n"
                    f"exec {real_curl} \"$@\" -w '%{{stderr}}readme-test: HTTP %{{http_code}} "
                    "%{content_type}\\n'\n")
        os.chmod(shim, 0o755)
    env = dict(os.environ)
    env.pop("DAVE_CONFIG", None)  # the commands find their config as a user's would
    env["PATH"] = bin_dir + os.pathsep + env.get("PATH", "")
    # As a user's shell: nothing of the caller's points the commands elsewhere.
    for name in [n for n in env if n == "DAVE" or n.startswith("DAVE_CLUSTER_")]:
        env.pop(name)

    servers = []
    try:
        run_blocks(blocks, root, env, work, mapping, real_curl, servers)
        # A curl command quoted in the prose runs too, while the nodes do.
        inline = readme_blocks.inline_curls(readme)
        for command in inline:
            command.text = rewrite_ports(command.text, mapping)
        if inline and real_curl:
            print("running the curl commands quoted outside the blocks", flush=True)
            run_commands(inline, root, env, work, inline[0].line)
    finally:
        for server in reversed(servers):
            server.stop()
        sweep_leftovers(work)


def run_blocks(blocks, root, env, work, mapping, real_curl, servers):
    for block in blocks:
        if block.skip:
            print(f"skipped README.md:{block.line}: {block.skip}", flush=True)
            continue
        print(f"running README.md:{block.line} ({block.section})", flush=True)
        pending = []
        commands = readme_blocks.commands_of(block)
        for command in commands:
            # The same ports in its claims: "says: ... on 127.0.0.1:8080".
            command.text = rewrite_ports(command.text, mapping)
            command.comment = rewrite_ports(command.comment, mapping)
            if is_curl(command) and not real_curl:
                fail(command.line, "curl is not installed (scripts/setup.sh installs it)")
                return
            if not SERVER_CLAIM.search(command.comment):
                pending.append(command)
                continue
            if pending:
                run_commands(pending, root, env, work, pending[0].line)
                pending = []
            print(f"  README.md:{command.line}: {command.text} (server)", flush=True)
            server = Server(command, root, env, work)
            servers.append(server)
            transcript.append(f"$ {command.text}   # in a terminal of its own\n")
            if not wait_ready(server.process, server.configs(root), command.line):
                print(server.log_tail())
                return
        if pending:
            run_commands(pending, root, env, work, pending[0].line)


# ---------------------------------------------------------------- paths

PATH_WORD = re.compile(r"^\.?/?[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*/?$")


def check_words(words, line, source, root):
    """Each word that is a path into the repository exists (in it, or in
    the scratch copy after the walkthrough made it)."""
    top = {name for name in os.listdir(source) if not name.startswith("build")}
    for word in words:
        word = word.rstrip(",;:")
        if "/" not in word or not PATH_WORD.match(word):
            continue
        relative = word[2:] if word.startswith("./") else word
        if relative.split("/")[0] not in top:
            continue
        if not any(os.path.exists(os.path.join(base, relative)) for base in (source, root)):
            fail(line, f"names {word}, which does not exist")


def check_paths(readme, blocks, source, root):
    """Paths in backquotes outside the blocks, and in the skipped blocks."""
    inside = False
    with open(readme, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if line.startswith("```"):
                inside = not inside
                continue
            if not inside:
                for span in readme_blocks.CODE_SPAN.findall(line):
                    check_words(span.split(), number, source, root)
    for block in blocks:
        if block.skip and block.language == "sh":
            for command in readme_blocks.commands_of(block):
                check_words(command.text.split(), command.line, source, root)


# ---------------------------------------------------------------- toml, cpp


def check_toml(block, config_check, work):
    path = os.path.join(work, f"readme-{block.line}.toml")
    with open(path, "w", encoding="utf-8") as f:
        f.write(block.text())
    result = subprocess.run([config_check, path], capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        # The loader names the scratch file and its line: name README's instead.
        problem = result.stdout.strip()
        where = re.match(re.escape(path) + r":(\d+): ", problem)
        line = block.line + int(where.group(1)) - 1 if where else block.line
        problem = problem[where.end():] if where else problem
        fail(line, f"the node's config loader refuses this block: {problem}")


def check_cpp(blocks, snippets, built):
    """`built`: each block's name and what the build made of it."""
    for block in blocks:
        name = readme_blocks.cpp_snippet_name(block)
        source = os.path.join(snippets, name + ".cpp")
        if name not in built or not os.path.exists(source):
            fail(block.line, "this ```cpp block is not the one the build compiled: configure "
                 "and build again (tests/readme/CMakeLists.txt)")
            continue
        artifact = built[name]
        if not os.path.exists(artifact) or os.path.getmtime(artifact) < os.path.getmtime(source):
            fail(block.line, f"this ```cpp block was not compiled: build {name} "
                 "(the build compiles every block)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readme", required=True)
    parser.add_argument("--source", required=True, help="the repository (its conf/ is copied)")
    parser.add_argument("--dave", required=True, help="the dave command under test")
    parser.add_argument("--config-check", required=True)
    parser.add_argument("--snippets", required=True)
    parser.add_argument("--built", nargs=2, action="append", default=[],
                        metavar=("NAME", "FILE"), help="a block's program or object file")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder")
    parser.add_argument("--transcript", help="write the commands and their output here")
    args = parser.parse_args()

    blocks = readme_blocks.read_blocks(args.readme)
    work = tempfile.mkdtemp(prefix="dave-readme-")
    try:
        check_cpp([b for b in blocks if b.language == "cpp" and not b.skip], args.snippets,
                  dict(args.built))
        for block in blocks:
            if block.language == "toml" and not block.skip:
                check_toml(block, args.config_check, work)
        run_sh_blocks(args.readme, [b for b in blocks if b.language == "sh"], args.source,
                      os.path.abspath(args.dave), work)
        check_paths(args.readme, blocks, args.source, os.path.join(work, "root"))
    finally:
        if args.transcript:
            with open(args.transcript, "w", encoding="utf-8") as f:
                f.write("\n".join(transcript))
        if args.keep or failures:
            print(f"scratch folder kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    kinds = {}
    for block in blocks:
        kinds[block.language or "plain"] = kinds.get(block.language or "plain", 0) + 1
    print(f"README.md blocks: {kinds}")
    if failures:
        print(f"\n{len(failures)} README claim(s) false:")
        for failure in failures:
            print("  " + failure)
        return 1
    print("README.md: every block checked is true")
    return 0


if __name__ == "__main__":
    sys.exit(main())
