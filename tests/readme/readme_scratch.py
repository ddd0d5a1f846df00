"""The scratch folder the README's commands run in (a copy of conf/ on free
ports, build/dave), and the nodes they start: waiting until they are up,
stopping them with Ctrl-C, and finding what was left running."""

import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import time
import tomllib
import urllib.request

from readme_report import fail

READY_TIMEOUT = 90  # for a server's nodes to answer and see each other
STOP_TIMEOUT = 60  # for a server to exit after Ctrl-C


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
