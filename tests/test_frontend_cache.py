"""Lead pages are purged from the site's CDN when what they show changes:
the page itself (Wagtail), its consent purposes and request processing, and
the site's data-controller settings (the notice)."""

import pytest
from django.test import override_settings
from wagtail.signals import page_published

from wagtail_leadgen.services import frontend_cache

from . import frontend_cache as recording
from .factories import (
    make_landing_page,
    make_purpose,
    make_request_processing,
    republish,
    set_controller,
)

pytestmark = pytest.mark.django_db

RECORDING = {"test": {"BACKEND": "tests.frontend_cache.RecordingBackend"}}


@pytest.fixture
def purged(monkeypatch):
    """A site with ``wagtail.contrib.frontend_cache``: the suite does not
    install the app (its page handlers would enqueue a purge task for every
    page any test publishes), so its presence is stated here."""
    monkeypatch.setattr(frontend_cache, "frontend_cache_installed", lambda: True)
    recording.purged.clear()
    with override_settings(WAGTAILFRONTENDCACHE=RECORDING):
        yield recording.purged
    recording.purged.clear()


def test_publishing_a_page_purges_it_through_wagtails_own_handler(purged):
    """Wagtail purges a published page itself once its app is installed
    (``register_signal_handlers`` in its ``ready()``), lead pages included."""
    from wagtail.contrib.frontend_cache.signal_handlers import (
        page_published_signal_handler,
    )

    page = make_landing_page()
    purged.clear()
    page_published.connect(page_published_signal_handler, sender=type(page))
    try:
        page.intro = "Now with a checklist."
        page.save_revision().publish()
    finally:
        page_published.disconnect(page_published_signal_handler, sender=type(page))
    assert purged == [page.full_url]


def test_publishing_a_purpose_purges_the_pages_that_show_it(purged):
    purpose = make_purpose()
    showing = make_landing_page(purposes=[purpose])
    make_landing_page()  # shows no purpose: stays in the cache
    purged.clear()
    republish(purpose, purpose_text="<p>Now also by post.</p>")
    assert purged == [showing.full_url]


def test_publishing_a_request_processing_purges_its_pages(purged):
    processing = make_request_processing()
    page = make_landing_page(request_processing=processing)
    purged.clear()
    processing.save_revision().publish()
    assert purged == [page.full_url]


def test_changing_the_sites_settings_purges_its_lead_pages(purged):
    pages = [make_landing_page(), make_landing_page()]
    set_controller()  # the settings row exists: one save below
    purged.clear()
    set_controller(controller_name="ACME SAS")
    assert sorted(purged) == sorted(page.full_url for page in pages)


def test_without_the_app_nothing_is_purged(purged, monkeypatch):
    monkeypatch.setattr(frontend_cache, "frontend_cache_installed", lambda: False)
    purpose = make_purpose()
    make_landing_page(purposes=[purpose])
    purged.clear()
    republish(purpose, purpose_text="<p>Changed.</p>")
    assert frontend_cache.purge_pages([object()]) == 0
    assert purged == []
