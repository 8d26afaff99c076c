"""Client helpers: post a page's form the way a browser does."""

import re

from wagtail_leadgen.forms import TOKEN_FIELD


def form_data(client, page, **answers) -> dict:
    """The fresh token from the rendered page plus the given answers."""
    response = client.get(page.url)
    assert response.status_code == 200
    token = re.search(
        rf'name="{TOKEN_FIELD}" value="([^"]+)"', response.content.decode()
    ).group(1)
    return {TOKEN_FIELD: token, **answers}


def assert_denied(response) -> None:
    """Wagtail answers a permission refusal with a redirect to the dashboard."""
    from django.urls import reverse

    assert response.status_code in (302, 403)
    if response.status_code == 302:
        assert response.url == reverse("wagtailadmin_home")
