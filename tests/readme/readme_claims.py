"""The claims a README command's comment makes, and checking a command's
outcome against them (the forms are listed in readme_test.py)."""

import json
import re

from readme_report import fail, transcript

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
