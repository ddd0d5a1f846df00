"""Reads README.md into its fenced blocks and their shell commands.

Shared by the configure-time extraction of the C++ snippets (CMakeLists.txt
here) and the `readme` test (readme_test.py). What the test checks in each
kind of block, and the few comment forms it reads as claims, are described
in readme_test.py.
"""

import dataclasses
import hashlib
import re

# A fence opens with ``` and a language tag (or none) and closes with ```.
FENCE = re.compile(r"^```(\S*)\s*$")
# <!-- readme-test: skip: why --> on the line before a fence: the test does
# not run that block (it prints why). For blocks that cannot run in a test:
# installing packages, the whole test suite (which runs this test).
SKIP = re.compile(r"^<!--\s*readme-test:\s*skip:\s*(.*?)\s*-->\s*$")


@dataclasses.dataclass
class Block:
    language: str  # "sh", "cpp", "toml", "" ...
    line: int  # README line of the first line inside the fence (1-based)
    lines: list  # the text inside the fence
    section: str  # the "## " heading the block is under
    skip: str  # why the test does not run it, or ""

    def text(self):
        return "".join(line + "\n" for line in self.lines)

    def digest(self):
        return hashlib.sha256(self.text().encode()).hexdigest()[:16]


# Shell blocks, by any of their usual tags; the test runs them all with bash.
SHELL_LANGUAGES = ("sh", "bash", "shell")


def read_blocks(path):
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    blocks = []
    section = ""
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("## "):
            section = line[3:].strip()
        opened = FENCE.match(line)
        if not opened:
            i += 1
            continue
        skip = ""
        if i > 0 and SKIP.match(lines[i - 1]):
            skip = SKIP.match(lines[i - 1]).group(1)
        end = i + 1
        while end < len(lines) and not lines[end].startswith("```"):
            end += 1
        if end == len(lines):
            raise ValueError(f"{path}:{i + 1}: a ``` block that is never closed")
        blocks.append(Block(opened.group(1), i + 2, lines[i + 1 : end], section, skip))
        i = end + 1
    return blocks


@dataclasses.dataclass
class Command:
    text: str  # the command as bash runs it (continuation lines joined)
    comment: str  # the trailing "# ..." comment of its last line, without "#"
    line: int  # README line where it starts


def split_comment(line):
    """Splits 'cmd  # comment' at the first # outside quotes that starts a
    word (as bash reads it), so '#' inside a quoted string stays."""
    quote = None
    depth = 0  # inside $( ... )
    for i, c in enumerate(line):
        if quote:
            if c == quote:
                quote = None
            elif c == "\\" and quote == '"':
                continue
            continue
        if c in "'\"":
            quote = c
        elif line.startswith("$(", i):
            depth += 1
        elif c == ")" and depth:
            depth -= 1
        elif c == "#" and depth == 0 and (i == 0 or line[i - 1] in " \t"):
            return line[:i].rstrip(), line[i + 1 :].strip()
    return line.rstrip(), ""


def commands_of(block):
    """The commands of a sh block: one per line, a line ending in a
    backslash continues on the next; comment-only and empty lines are
    skipped."""
    commands = []
    pending = None  # (text so far, first line)
    for offset, raw in enumerate(block.lines):
        number = block.line + offset
        text, comment = split_comment(raw)
        if pending is None and not text.strip():
            continue
        if text.endswith("\\"):
            # The backslash stays: bash joins the lines as the reader's would.
            pending = (pending[0] + "\n" + text, pending[1]) if pending else (text, number)
            continue
        if pending:
            commands.append(Command(pending[0] + "\n" + text, comment, pending[1]))
            pending = None
        else:
            commands.append(Command(text, comment, number))
    if pending:
        commands.append(Command(pending[0], "", pending[1]))
    return commands


CODE_SPAN = re.compile(r"`([^`]+)`")


def inline_curls(path):
    """The `curl ...` commands quoted in the prose (outside the blocks)."""
    commands = []
    inside = False
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if line.startswith("```"):
                inside = not inside
            elif not inside:
                for span in CODE_SPAN.findall(line):
                    if span.startswith("curl "):
                        commands.append(Command(span, "", number))
    return commands


def cpp_snippet_name(block):
    return f"readme_snippet_{block.digest()}"


def cpp_snippet_source(block, readme_path):
    """The block as a translation unit whose diagnostics name README lines."""
    return f'#line {block.line} "{readme_path}"\n' + block.text()
