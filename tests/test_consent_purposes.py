"""Consent purposes in the admin: sanitised wording, published revisions as versions."""

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.urls import reverse

from wagtail_leadgen.models import ConsentPurpose

from .factories import make_purpose, republish

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    user = get_user_model().objects.create_superuser("editor", "e@example.com", "pw")
    client.force_login(user)
    return client


def test_an_editor_creates_and_publishes_a_purpose_in_the_admin(admin_client):
    url = reverse("wagtailsnippets_wagtail_leadgen_consentpurpose:add")
    response = admin_client.post(
        url,
        {
            "name": "Newsletter",
            "checkbox_label": "Send me the newsletter",
            "purpose_text": '{"blocks": [{"key": "a", "type": "unstyled", "text": "Monthly news.", "depth": 0, "inlineStyleRanges": [], "entityRanges": []}], "entityMap": {}}',
            "legal_basis": "consent",
            "recipients": "Our marketing team",
            "retention_months": "36",
            "action-publish": "publish",
        },
    )
    assert response.status_code == 302, response.context["form"].errors
    purpose = ConsentPurpose.objects.get(name="Newsletter")
    assert purpose.live and purpose.live_revision_id is not None
    assert "Monthly news." in purpose.purpose_html


def test_script_and_attributes_never_reach_visitors():
    purpose = make_purpose(
        purpose_text='<p onclick="x()">Hi<script>alert(1)</script> <a href="javascript:alert(1)">x</a></p>'
    )
    purpose.full_clean()
    assert "<script" not in purpose.purpose_text
    assert "onclick" not in purpose.purpose_text
    assert "javascript:" not in purpose.purpose_html


def test_links_to_pages_survive_and_open_safely():
    purpose = make_purpose(
        purpose_text='<p>See <a href="https://example.com/privacy">policy</a></p>'
    )
    purpose.full_clean()
    assert 'rel="noopener noreferrer"' in purpose.purpose_html
    assert 'href="https://example.com/privacy"' in purpose.purpose_html


def test_a_purpose_without_text_is_refused():
    purpose = ConsentPurpose(
        name="Empty", checkbox_label="Tick", recipients="Us", purpose_text="<p></p>"
    )
    with pytest.raises(ValidationError) as excinfo:
        purpose.full_clean()
    assert "purpose_text" in excinfo.value.message_dict


def test_each_publication_is_a_new_version_and_drafts_change_nothing_visitors_see():
    purpose = make_purpose(purpose_text="<p>First.</p>")
    first = purpose.live_revision_id
    purpose.purpose_text = "<p>Draft only.</p>"
    purpose.save_revision()
    purpose.refresh_from_db()
    assert purpose.live_revision_id == first
    assert "First." in purpose.purpose_html
    republish(purpose, purpose_text="<p>Second.</p>")
    assert purpose.live_revision_id != first
    assert "Second." in purpose.purpose_html
