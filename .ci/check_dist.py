"""Check a built sdist and wheel carry what a site needs, and nothing half-complete.

    python .ci/check_dist.py DIST_DIR

The wheel must hold every file of the package's source tree (templates,
static files, locale catalogues, migrations, ``py.typed``) and the licence;
the sdist must hold the licence and no tests (see MANIFEST.in). Exits 1,
listing what is wrong, otherwise prints what it checked.
"""

from __future__ import annotations

import sys
import tarfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "wagtail_leadgen"
# One file of each kind a site needs at run time, named so a miss reads clearly.
REQUIRED_IN_WHEEL = (
    f"{PACKAGE}/py.typed",
    f"{PACKAGE}/templates/{PACKAGE}/base.html",
    f"{PACKAGE}/static/{PACKAGE}/leadgen.css",
    f"{PACKAGE}/locale/fr/LC_MESSAGES/django.mo",
    f"{PACKAGE}/migrations/0001_initial.py",
)


def source_files() -> set[str]:
    """The package's files as they are in the repository, bytecode left out."""
    return {
        path.relative_to(ROOT).as_posix()
        for path in (ROOT / PACKAGE).rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }


def wheel_problems(wheel: Path) -> list[str]:
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = dict.fromkeys([*REQUIRED_IN_WHEEL, *sorted(source_files())])
    problems = [f"{wheel.name} lacks {name}" for name in expected if name not in names]
    if not any(name.endswith(".dist-info/licenses/LICENSE") for name in names):
        problems.append(f"{wheel.name} lacks the LICENSE file")
    return problems


def sdist_problems(sdist: Path) -> list[str]:
    with tarfile.open(sdist) as archive:
        names = {name.split("/", 1)[-1] for name in archive.getnames()}
    problems = [] if "LICENSE" in names else [f"{sdist.name} lacks LICENSE"]
    shipped_tests = sorted(name for name in names if name.startswith("tests/"))
    if shipped_tests:
        problems.append(
            f"{sdist.name} ships part of the tests ({shipped_tests[0]}, …): "
            "MANIFEST.in prunes them"
        )
    return problems


def main(dist_dir: Path) -> int:
    wheels = sorted(dist_dir.glob("*.whl"))
    sdists = sorted(dist_dir.glob("*.tar.gz"))
    if len(wheels) != 1 or len(sdists) != 1:
        print(f"{dist_dir}: expected one wheel and one sdist", file=sys.stderr)
        return 1
    problems = wheel_problems(wheels[0]) + sdist_problems(sdists[0])
    for problem in problems:
        print(problem, file=sys.stderr)
    if not problems:
        print(f"{wheels[0].name} and {sdists[0].name}: complete, licence included")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
