"""CORS on the JSON APIs: an allow-list of front-end origins, never a wildcard
with credentials (check W041)."""

import pytest
from django.test import override_settings

from wagtail_leadgen.headless_checks import check_cors_wildcard_with_credentials

from .factories import make_landing_page

FRONT_END = "http://127.0.0.1:8001"


def ids(messages):
    return [message.id for message in messages]


@pytest.mark.parametrize(
    "cors",
    [
        {"CORS_ALLOW_ALL_ORIGINS": True},
        {"CORS_ALLOWED_ORIGIN_REGEXES": [r".*"]},
        {"CORS_ALLOWED_ORIGIN_REGEXES": [r"^https://shop\.example$", r"^.+$"]},
        {"CORS_ALLOWED_ORIGIN_REGEXES": [r"^(https?://.*|null)$"]},
    ],
)
def test_any_origin_with_credentials_is_warned_about(cors):
    with override_settings(CORS_ALLOW_CREDENTIALS=True, **cors):
        warnings = check_cors_wildcard_with_credentials(None)
    assert ids(warnings) == ["wagtail_leadgen.W041"]
    assert "CORS_ALLOWED_ORIGINS" in warnings[0].hint


@pytest.mark.parametrize(
    "cors",
    [
        # A wildcard without credentials: no cookie rides along.
        {"CORS_ALLOW_ALL_ORIGINS": True, "CORS_ALLOW_CREDENTIALS": False},
        # Credentials for listed origins or a precise pattern only.
        {"CORS_ALLOW_CREDENTIALS": True, "CORS_ALLOWED_ORIGINS": [FRONT_END]},
        {
            "CORS_ALLOW_CREDENTIALS": True,
            "CORS_ALLOWED_ORIGIN_REGEXES": [r"^https://\w+\.shop\.example$"],
        },
        # A pattern that does not compile is django-cors-headers' error to report.
        {"CORS_ALLOW_CREDENTIALS": True, "CORS_ALLOWED_ORIGIN_REGEXES": ["(["]},
    ],
)
def test_an_allow_list_is_not_warned_about(cors):
    with override_settings(**cors):
        assert check_cors_wildcard_with_credentials(None) == []


@pytest.mark.django_db
@override_settings(CORS_ALLOWED_ORIGINS=[FRONT_END])
def test_an_allowed_front_end_may_read_the_page_api(client):
    page = make_landing_page()

    allowed = client.get(f"/api/v2/pages/{page.pk}/", headers={"Origin": FRONT_END})
    other = client.get(
        f"/api/v2/pages/{page.pk}/", headers={"Origin": "https://elsewhere.example"}
    )

    assert allowed.headers["Access-Control-Allow-Origin"] == FRONT_END
    assert "Access-Control-Allow-Credentials" not in allowed.headers
    # A 429's Retry-After is readable by the front end's script.
    assert allowed.headers["Access-Control-Expose-Headers"] == "Retry-After"
    assert "Access-Control-Allow-Origin" not in other.headers


@pytest.mark.django_db
@override_settings(CORS_ALLOWED_ORIGINS=[FRONT_END])
def test_cors_covers_the_apis_only(client):
    page = make_landing_page()

    preflight = client.options(
        "/api/leadgen/v1/openapi.json",
        headers={
            "Origin": FRONT_END,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type, idempotency-key",
        },
    )
    html = client.get(page.url, headers={"Origin": FRONT_END})

    assert preflight.headers["Access-Control-Allow-Origin"] == FRONT_END
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    assert "idempotency-key" in preflight.headers["Access-Control-Allow-Headers"]
    assert "Access-Control-Allow-Origin" not in html.headers
