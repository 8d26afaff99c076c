"""The benchmarks' throwaway database: the test suite's settings on a database
created for one run only.

A SQLite file in the run's temporary folder, or, with a PostgreSQL
``DATABASE_URL``, a database of its own beside that one (named after the
benchmark and the process), so that a test suite running meanwhile keeps its
database. Imported by the scripts of this folder (``python benchmarks/x.py``
puts the folder on ``sys.path``).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def setup_django(
    database_url: str | None,
    folder: str,
    *,
    name: str = "leadgen_bench",
    configure: Callable[[], None] | None = None,
) -> None:
    """Set Django up on the throwaway database and create its tables.

    ``configure`` runs after ``django.setup()`` and before the tables are
    created, for a benchmark that changes a setting (its task queue, say).
    """
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.settings"
    sqlite_file = Path(folder) / "bench.sqlite3"
    os.environ["DATABASE_URL"] = database_url or f"sqlite:///{sqlite_file}"
    sys.path.insert(0, str(REPO))
    import django
    from django.conf import settings

    django.setup()
    database = settings.DATABASES["default"]
    database.setdefault("TEST", {})["NAME"] = (
        str(sqlite_file)
        if database["ENGINE"].endswith("sqlite3")
        else f"{name}_{os.getpid()}"
    )
    if configure is not None:
        configure()
    from django.db import connection

    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)


def teardown_django() -> None:
    """Drop the throwaway database."""
    from django.conf import settings
    from django.db import connection

    connection.creation.destroy_test_db(
        settings.DATABASES["default"]["NAME"], verbosity=0
    )


def bulk_grant(submissions, purpose) -> None:
    """A granted consent to ``purpose`` for each submission, in bulk (the
    benchmarks' stand-in for visitors ticking a box)."""
    from wagtail_leadgen.models import ConsentRecord

    ConsentRecord.objects.bulk_create(
        [
            ConsentRecord(
                lead_id=submission.lead_id,
                purpose=purpose,
                submission=submission,
                decision="granted",
                wording="w",
                wording_sha256="0" * 64,
                language="en",
                channel="web",
            )
            for submission in submissions
        ],
        batch_size=5000,
    )
