"""Write the API's OpenAPI document to tests/openapi.json: ``make openapi``.

The snapshot test (tests/test_api_openapi.py) compares the live document to
it, so that a change to the API's contract is always a reviewed diff.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

SNAPSHOT = Path(__file__).with_name("openapi.json")
DOCUMENT_URL = "/api/leadgen/v1/openapi.json"


def render(document: dict) -> str:
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    import django  # the settings must be chosen before Django loads

    django.setup()
    from django.test import Client  # needs the settings loaded

    response = Client().get(DOCUMENT_URL)
    if response.status_code != 200:
        raise SystemExit(f"{DOCUMENT_URL} answered {response.status_code}")
    SNAPSHOT.write_text(render(response.json()))
    print(f"Wrote {SNAPSHOT}")


if __name__ == "__main__":
    main()
