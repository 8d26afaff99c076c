"""What a package index shows of the project, and what the distributions carry.

The build itself (sdist and wheel, ``twine check --strict``, the wheel's
contents) runs in ``make lint`` through ``.ci/check_dist.py``.
"""

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from trove_classifiers import classifiers as known_classifiers

ROOT = Path(__file__).resolve().parent.parent
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
REPOSITORY = "https://github.com/wagtail-leadgen/wagtail-leadgen"


def test_the_licence_file_declared_travels_with_the_code():
    assert PROJECT["license"] == "BSD-3-Clause"
    for name in PROJECT["license-files"]:
        text = (ROOT / name).read_text()
        assert "BSD 3-Clause License" in text
        assert "wagtail-leadgen contributors" in text


def test_every_link_of_the_readme_works_on_a_package_index_page():
    readme = (ROOT / "README.md").read_text()
    targets = re.findall(r"\]\(([^)\s]+)\)", readme)
    assert targets
    relative = [t for t in targets if not t.startswith(("https://", "#"))]
    assert relative == []
    repository_links = [t for t in targets if "github" in t]
    assert all(
        t.startswith(
            (REPOSITORY + "/", "https://raw.githubusercontent.com/wagtail-leadgen/")
        )
        for t in repository_links
    )


def test_the_readme_says_the_package_is_not_on_an_index_yet():
    readme = " ".join((ROOT / "README.md").read_text().split())
    assert "Not released yet: install from a clone or the built wheel" in readme


def test_the_project_urls_point_at_the_one_canonical_repository():
    assert set(PROJECT["urls"]) == {"Homepage", "Documentation", "Changelog", "Issues"}
    assert all(url.startswith(REPOSITORY) for url in PROJECT["urls"].values())


def test_every_classifier_exists_and_they_cover_the_supported_versions():
    classifiers = PROJECT["classifiers"]
    assert set(classifiers) <= known_classifiers
    assert not [c for c in classifiers if c.startswith("License ::")]  # PEP 639
    django = {c.rsplit(" ", 1)[-1] for c in classifiers if "Django ::" in c}
    python = {c.rsplit(" ", 1)[-1] for c in classifiers if "Python :: 3." in c}
    assert django == {"5.2", "6.0", "6.1"}
    assert python == {"3.11", "3.12", "3.13"}
    assert "Framework :: Wagtail :: 8" in classifiers
    assert "Development Status :: 3 - Alpha" in classifiers


def test_the_task_queue_extras_are_capped_alike():
    """Both workers must run the django-tasks backport's tasks (see pyproject)."""
    extras = PROJECT["optional-dependencies"]
    queue_db, queue_rq = (
        Requirement(extras[name][0]) for name in ("queue-db", "queue-rq")
    )
    assert queue_db.specifier == queue_rq.specifier
    assert not queue_rq.specifier.contains("0.13")
