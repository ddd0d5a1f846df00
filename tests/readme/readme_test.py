"""The `readme` test: README.md is true when what it shows runs.

Every fenced block of README.md is checked by its language:

  ```sh    (or bash, shell) Run, in order, by bash in a scratch folder laid out like the
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
  ```json  Parses: one document, or one per line (JSON log lines).
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
import re
import shutil
import signal
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import readme_blocks  # noqa: E402
from readme_claims import CURL_MARK, SERVER_CLAIM, check, is_curl, record  # noqa: E402
from readme_report import fail, failures, transcript  # noqa: E402
from readme_scratch import (  # noqa: E402
    Server,
    prepare_root,
    rewrite_ports,
    sweep_leftovers,
    wait_ready,
)

COMMAND_TIMEOUT = 300  # seconds for one block's commands (a loaded machine)


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
        if block.skip and block.language in readme_blocks.SHELL_LANGUAGES:
            for command in readme_blocks.commands_of(block):
                check_words(command.text.split(), command.line, source, root)


# ---------------------------------------------------------------- toml, cpp


def check_json(block):
    """A ```json block is one JSON document, or JSON lines (a log sample)."""
    try:
        json.loads(block.text())
        return
    except ValueError:
        pass
    for offset, text in enumerate(block.lines):
        if text.strip():
            try:
                json.loads(text)
            except ValueError as e:
                fail(block.line + offset, f"not JSON: {e}")


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
            if block.language == "json" and not block.skip:
                check_json(block)
        shell_blocks = [b for b in blocks if b.language in readme_blocks.SHELL_LANGUAGES]
        run_sh_blocks(args.readme, shell_blocks, args.source,
                      os.path.abspath(args.dave), work)
        check_paths(args.readme, blocks, args.source, os.path.join(work, "root"))
    finally:
        if args.transcript:
            with open(args.transcript, "w", encoding="utf-8") as f:
                f.write("\n".join(transcript))
        if args.keep:
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
