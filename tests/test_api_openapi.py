"""The API's OpenAPI document: valid OpenAPI 3.1, equal to its reviewed
snapshot, and no input generated from it makes the API answer 5xx."""

from __future__ import annotations

import json
from contextlib import contextmanager

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from openapi_spec_validator import validate

from .factories import make_ebook_page, make_landing_page, make_purpose
from .openapi_snapshot import (
    DOCUMENT_URL,
    HEADLESS_DOC,
    SNAPSHOT,
    endpoint_table,
    render,
    with_endpoint_table,
)

pytestmark = pytest.mark.django_db


def live_document(client) -> dict:
    response = client.get(DOCUMENT_URL)
    assert response.status_code == 200
    return response.json()


def test_the_document_is_valid_openapi_3_1(client):
    document = live_document(client)
    assert document["openapi"].startswith("3.1")
    validate(document)  # raises on any violation of the 3.1 schema


def test_the_document_matches_the_reviewed_snapshot(client):
    live = render(live_document(client))
    assert live == SNAPSHOT.read_text(), (
        "The API's OpenAPI document changed. If the change is intended, run "
        "`make openapi` and commit tests/openapi.json."
    )


def test_the_headless_guide_lists_every_endpoint_of_the_document(client):
    document = client.get(DOCUMENT_URL).json()
    guide = HEADLESS_DOC.read_text()
    assert with_endpoint_table(guide, endpoint_table(document)) == guide, (
        "docs/headless.md's endpoint table is out of date: run `make openapi`"
    )
    assert "`POST` | `forms/{page_id}/submissions`" in guide


def test_the_document_names_the_form_endpoints_and_their_errors(client):
    paths = live_document(client)["paths"]
    schema = paths["/api/leadgen/v1/forms/{page_id}"]["get"]
    submit = paths["/api/leadgen/v1/forms/{page_id}/submissions"]["post"]
    assert set(schema["responses"]) == {"200", "404"}
    assert set(submit["responses"]) == {
        "201", "400", "404", "409", "413", "415", "422", "429"
    }  # fmt: skip


@contextmanager
def in_process_wsgi():
    """Django's WSGI handler on the test's own connection: it must not close
    connections between requests (the test client does the same)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield WSGIHandler()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def test_no_generated_request_makes_the_api_fail(client):
    """schemathesis, in-process through its WSGI loader (its pytest plugin is
    not used): bounded examples per operation, and never a 5xx."""
    pages = [make_landing_page(purposes=[make_purpose()]), make_ebook_page()]
    server_errors = []
    with in_process_wsgi() as app:
        schema = schemathesis.openapi.from_wsgi(DOCUMENT_URL, app)
        for result in schema.get_all_operations():
            operation = result.ok()

            @given(case=operation.as_strategy())
            @settings(
                max_examples=40,
                deadline=None,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            def call(case):
                if (
                    "page_id" in (case.path_parameters or {})
                    and case.path_parameters["page_id"] % 3 == 0
                ):
                    case.path_parameters["page_id"] = pages[0].pk  # reach a real form
                response = case.call()
                if response.status_code >= 500:
                    server_errors.append(
                        (case.operation.label, response.status_code, case.body)
                    )

            call()
    assert server_errors == [], json.dumps(server_errors, default=str)[:2000]
