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


@pytest.fixture
def wagtail_tree():
    """Transactional tests flush the rows Wagtail's data migrations created
    (root collection, root page, default site); put them back when missing."""
    from wagtail.models import Collection, Locale, Page, Site

    if not Collection.objects.exists():
        Collection.add_root(name="Root")
    if not Site.objects.exists():
        locale, _ = Locale.objects.get_or_create(language_code="en")
        root = Page.add_root(title="Root", slug="root", locale=locale)
        home = root.add_child(
            instance=Page(title="Welcome", slug="home", locale=locale)
        )
        Site.objects.create(hostname="localhost", root_page=home, is_default_site=True)
