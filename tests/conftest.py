import pytest
from django.core.cache import cache
from django.utils import translation

from wagtail_leadgen.crm import locmem

from .fake_crm import FakeCRM
from .helpers import form_data
from .inflight import wait_until_idle


@pytest.fixture(autouse=True)
def _clean_cache():
    """Rate-limit counters live in the cache; each test starts from zero."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _default_language():
    """A request through the test client leaves its language active in the
    thread (LocaleMiddleware activates it and never deactivates it, as each
    real request sets its own): each test starts in the default language."""
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _empty_locmem_outbox():
    """The in-memory CRM's outbox is module state: each test starts empty."""
    locmem.outbox.clear()
    locmem.updated.clear()
    locmem.erased.clear()
    locmem.corrected.clear()
    yield
    locmem.outbox.clear()
    locmem.updated.clear()
    locmem.erased.clear()
    locmem.corrected.clear()


@pytest.fixture(autouse=True)
def _live_server_drained(request):
    """A browser test ends when its assertions pass, but the page it left may
    still have a request on the live server: wait for it before the database
    is flushed (see inflight.py)."""
    yield
    if "live_server" in request.fixturenames:
        wait_until_idle()


@pytest.fixture
def fake_crm():
    """A real HTTP server on 127.0.0.1 standing in for a CRM (see fake_crm.py)."""
    with FakeCRM() as server:
        yield server


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
    from wagtail.models import Collection, Locale, Site

    from .factories import page_model

    if not Collection.objects.exists():
        Collection.add_root(name="Root")
    if not Site.objects.exists():
        page_class = page_model()  # Wagtail's Page, or the swapped-in base page
        locale, _ = Locale.objects.get_or_create(language_code="en")
        root = page_class.add_root(title="Root", slug="root", locale=locale)
        home = root.add_child(
            instance=page_class(title="Welcome", slug="home", locale=locale)
        )
        Site.objects.create(hostname="localhost", root_page=home, is_default_site=True)
