"""Writes every ```cpp block of README.md to OUT/readme_snippet_<hash>.cpp
(each a whole translation unit, with #line pointing at README.md) and prints
one "name|main" or "name|object" line per block for CMake: a block with a
main() is linked into a program against dave_lib, any other is compiled.

    python3 extract_snippets.py README.md OUT
"""

import os
import re
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import readme_blocks  # noqa: E402

HAS_MAIN = re.compile(r"^\s*int\s+main\s*\(", re.M)


def main():
    readme, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    wanted = set()
    for block in readme_blocks.read_blocks(readme):
        if block.language != "cpp" or block.skip:
            continue
        name = readme_blocks.cpp_snippet_name(block)
        path = os.path.join(out, name + ".cpp")
        source = readme_blocks.cpp_snippet_source(block, readme)
        # Rewritten only when changed, so an unchanged block is not rebuilt.
        if not os.path.exists(path) or open(path, encoding="utf-8").read() != source:
            with open(path, "w", encoding="utf-8") as f:
                f.write(source)
        wanted.add(name + ".cpp")
        print(f"{name}|{'main' if HAS_MAIN.search(block.text()) else 'object'}")
    for stale in set(os.listdir(out)) - wanted:
        if stale.startswith("readme_snippet_"):
            os.remove(os.path.join(out, stale))


if __name__ == "__main__":
    main()
