"""Calls to action: one target each, rendered in any body, click to call on mobile."""

import pytest
from django.core.exceptions import ValidationError

from wagtail_leadgen.blocks import CTABlock

from .factories import make_cta, make_landing_page

pytestmark = pytest.mark.django_db


def test_a_cta_to_a_page_links_to_it():
    page = make_landing_page()
    assert make_cta(target_page=page).href == page.url


def test_a_click_to_call_cta_is_a_tel_link():
    cta = make_cta(phone_number="+33 1 23 45 67 89")
    assert cta.href == "tel:+33123456789"
    assert cta.is_click_to_call


def test_a_cta_to_an_unpublished_page_renders_nothing():
    page = make_landing_page()
    cta = make_cta(target_page=page)
    page.unpublish()
    cta.refresh_from_db()
    html = CTABlock().render(CTABlock().to_python({"cta": cta.pk}))
    assert cta.href == ""
    assert "<a" not in html


@pytest.mark.parametrize(
    "targets",
    [
        {},
        {"target_url": "https://example.com/", "phone_number": "+33 1 23 45 67 89"},
        {"phone_number": "call me maybe"},
    ],
)
def test_a_cta_needs_exactly_one_valid_target(targets):
    from wagtail_leadgen.models import CallToAction

    with pytest.raises(ValidationError):
        CallToAction(label="Go", **targets).full_clean()


def test_the_cta_block_renders_a_button_in_content():
    cta = make_cta(label="Get the guide", description="Free PDF")
    html = CTABlock().render(CTABlock().to_python({"cta": cta.pk}))
    assert f'href="/leadgen/cta/{cta.pk}/"' in html  # counted, then redirected
    assert "Get the guide" in html and "Free PDF" in html
