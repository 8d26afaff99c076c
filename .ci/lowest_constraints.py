"""Print pip constraints pinning each runtime dependency to its declared minimum.

    python .ci/lowest_constraints.py > constraints-lowest.txt

Reads ``pyproject.toml``: the ``dependencies`` and the queue extras the test
suite runs (``queue-db``, ``queue-rq``). A dependency without a ``>=`` bound
is left free. CI installs the suite with these constraints once, so the
minimum versions the package promises are the versions it is tested with.
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"
EXTRAS = ("queue-db", "queue-rq", "proof-of-work")
LOWER_BOUND = re.compile(
    r"^\s*([A-Za-z0-9_.\-]+)(?:\[[^\]]*\])?\s*[^;]*?>=\s*([^,;\s]+)"
)


def lowest_pins(project: dict) -> list[str]:
    requirements = list(project["dependencies"])
    for extra in EXTRAS:
        requirements += project["optional-dependencies"].get(extra, [])
    pins = {}
    for requirement in requirements:
        match = LOWER_BOUND.match(requirement)
        if match:
            pins[match.group(1).lower()] = match.group(2)
    return [f"{name}=={version}" for name, version in sorted(pins.items())]


if __name__ == "__main__":
    project = tomllib.loads(PYPROJECT.read_text())["project"]
    sys.stdout.write("\n".join(lowest_pins(project)) + "\n")
