import pytest
from django.core.cache import cache

from .helpers import form_data


@pytest.fixture(autouse=True)
def _clean_cache():
    """Rate-limit counters live in the cache; each test starts from zero."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def post_form(client):
    """Post a page's form as a browser would; returns the response."""

    def _post(page, **answers):
        return client.post(page.url, form_data(client, page, **answers))

    return _post
