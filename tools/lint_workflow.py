"""`snakemake --lint`, failing on every lint but the one this project answers by design.

    python tools/lint_workflow.py                      # the default (demo) config
    python tools/lint_workflow.py --configfile study/config.yaml

Snakemake asks every rule for a conda environment or a container. retrorun installs with
pip alone into one environment (pyproject.toml pins it), which every rule shares, so that
lint is reported once, with this reason, and not counted. Any other lint fails (exit 1).
(Snakemake 9's `--lint json` prints text, so the text output is parsed.)
"""

from __future__ import annotations

import re
import subprocess
import sys

ACCEPTED = {
    "Specify a conda environment or container for each rule.": (
        "retrorun installs with pip into one environment that every rule shares (pyproject.toml pins it)"
    ),
}
SECTION = re.compile(r"^Lints for (.+):$")
LINT = re.compile(r"^    \* (.+?):?$")


def lints(output: str) -> list[tuple[str, str]]:
    """(where, title) of every lint in `snakemake --lint`'s text output."""
    found, where = [], ""
    for line in output.splitlines():
        if section := SECTION.match(line):
            where = section.group(1)
        elif lint := LINT.match(line):
            found.append((where, lint.group(1).rstrip(":")))
    return found


def main(argv: list[str]) -> int:
    run = subprocess.run(["snakemake", "--lint", *argv], capture_output=True, text=True)
    found = lints(run.stdout + run.stderr)
    counted = [(where, title) for where, title in found if title not in ACCEPTED]
    for title, reason in ACCEPTED.items():
        times = sum(t == title for _, t in found)
        if times:
            print(f"accepted ({times} rules): {title} Reason: {reason}")
    for where, title in counted:
        print(f"LINT {where}: {title}")
    if run.returncode != 0 and not found:
        # Not a lint: the workflow did not parse (a config or sheet error); show why.
        print(run.stdout + run.stderr)
        return 1
    print(f"snakemake --lint: {len(counted)} lint(s) to fix")
    return 1 if counted else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
