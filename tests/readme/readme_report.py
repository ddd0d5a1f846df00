"""What the `readme` test found: the false claims, each naming its README
line, and the terminal's view that --transcript writes."""

failures = []
transcript = []  # each command and what it printed


def fail(line, message):
    failures.append(f"README.md:{line}: {message}")
    print(f"FAIL README.md:{line}: {message}", flush=True)
