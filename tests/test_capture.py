"""What is stored for a submission: lead, submission, one consent record per purpose."""

import pytest
from django.conf import settings as django_settings
from django.db import transaction
from django.test import override_settings

from wagtail_leadgen.models import ConsentRecord, Lead, Submission
from wagtail_leadgen.models.consent import AppendOnlyError, wording_sha256
from wagtail_leadgen.services.capture import SubmissionContext, capture_lead
from wagtail_leadgen.services.consent import withdraw_consent

from .factories import make_landing_page, make_purpose, make_submission, republish
from .helpers import form_data, ticked

pytestmark = pytest.mark.django_db


def test_refusing_consent_still_stores_the_lead_and_a_refused_record(post_form):
    newsletter = make_purpose()
    page = make_landing_page(purposes=[newsletter])

    response = post_form(page, email="ann@example.com")

    assert response.status_code == 303
    lead = Lead.objects.get(email="ann@example.com")
    record = ConsentRecord.objects.get(lead=lead)
    assert record.decision == "refused"
    assert record.purpose == newsletter


def test_ticking_a_purpose_records_a_granted_consent_with_its_exact_wording(post_form):
    newsletter = make_purpose(
        checkbox_label="Send me the newsletter", purpose_text="<p>Monthly news.</p>"
    )
    page = make_landing_page(purposes=[newsletter])

    post_form(page, email="ann@example.com", **ticked(newsletter))

    record = ConsentRecord.objects.get()
    assert record.decision == "granted"
    assert record.wording == "Send me the newsletter\n\n<p>Monthly news.</p>"
    assert record.wording_sha256 == wording_sha256(record.wording)
    assert record.purpose_revision_id == newsletter.live_revision_id
    assert record.language == "en"
    assert record.channel == "web"
    assert record.submission.page_id == page.pk
    assert record.submission.page_revision_id == page.live_revision_id


def test_one_record_per_purpose_shown(post_form):
    purposes = [make_purpose(), make_purpose(), make_purpose()]
    page = make_landing_page(purposes=purposes)
    post_form(
        page,
        email="ann@example.com",
        **ticked(purposes[0], purposes[2]),
    )
    decisions = dict(ConsentRecord.objects.values_list("purpose_id", "decision"))
    assert decisions == {
        purposes[0].pk: "granted",
        purposes[1].pk: "refused",
        purposes[2].pk: "granted",
    }


def test_a_changed_purpose_text_is_a_new_version_and_old_proof_keeps_the_old_text(
    post_form,
):
    purpose = make_purpose(purpose_text="<p>Old wording.</p>")
    page = make_landing_page(purposes=[purpose])
    post_form(page, email="first@example.com", **ticked(purpose))
    old_revision = purpose.live_revision_id

    republish(purpose, purpose_text="<p>New wording.</p>")
    post_form(page, email="second@example.com", **ticked(purpose))

    first = ConsentRecord.objects.get(lead__email="first@example.com")
    second = ConsentRecord.objects.get(lead__email="second@example.com")
    assert "Old wording." in first.wording
    assert first.purpose_revision_id == old_revision
    assert "New wording." in second.wording
    assert second.purpose_revision_id == purpose.live_revision_id != old_revision


def test_proof_holds_the_version_the_visitor_saw_when_republished_meanwhile(client):
    purpose = make_purpose(purpose_text="<p>Version seen.</p>")
    page = make_landing_page(purposes=[purpose])
    data = form_data(client, page, email="ann@example.com", **ticked(purpose))
    seen_revision = purpose.live_revision_id

    republish(purpose, purpose_text="<p>Published while the form was open.</p>")
    client.post(page.url, data)

    record = ConsentRecord.objects.get()
    assert "Version seen." in record.wording
    assert record.purpose_revision_id == seen_revision


def test_a_returning_visitor_is_one_lead_with_two_submissions(post_form):
    page = make_landing_page()
    post_form(page, email="Ann@Example.com")
    post_form(page, email="ann@example.com")
    assert Lead.objects.count() == 1
    assert Lead.objects.get().submissions.count() == 2


def test_utm_parameters_and_external_referrer_origin_are_kept(client):
    page = make_landing_page()
    url = page.url + "?utm_source=newsletter&utm_campaign=spring"
    response = client.get(url, HTTP_REFERER="https://search.example/q?email=ann@x.fr")
    assert response.status_code == 200
    data = form_data(client, page, email="ann@example.com")
    data["leadgen_ref"] = "https://search.example/q?email=ann@x.fr"
    client.post(url, data)
    submission = Submission.objects.get()
    assert submission.utm_source == "newsletter"
    assert submission.utm_campaign == "spring"
    assert submission.referrer == "https://search.example/q"


def test_the_referrer_is_carried_from_the_first_page_view(client):
    """A private page carries it in the form; a page a shared cache holds
    never has a visitor's referrer in its HTML: its script copies
    ``document.referrer`` into the field (docs/caching.md)."""
    page = make_landing_page()
    with override_settings(
        WAGTAIL_LEADGEN={**django_settings.WAGTAIL_LEADGEN, "SHARED_CACHE_MAX_AGE": 0}
    ):
        html = client.get(
            page.url, HTTP_REFERER="https://blog.example/post?id=3"
        ).content
    assert b'name="leadgen_ref" value="https://blog.example/post"' in html
    shared = client.get(page.url, HTTP_REFERER="https://blog.example/post?id=3")
    assert b"blog.example" not in shared.content


def test_nothing_is_stored_when_the_capture_transaction_fails():
    purpose = make_purpose()
    page = make_landing_page(purposes=[purpose])
    context = SubmissionContext(page=page, language="en")
    with pytest.raises(RuntimeError), transaction.atomic():
        capture_lead(
            context=context,
            email="ann@example.com",
            answers={},
            decisions={purpose: True},
            shown_versions={},
        )
        raise RuntimeError("database went away")
    assert not Lead.objects.exists()
    assert not Submission.objects.exists()
    assert not ConsentRecord.objects.exists()


def test_consent_records_are_append_only_and_withdrawal_is_a_new_record(post_form):
    purpose = make_purpose()
    page = make_landing_page(purposes=[purpose])
    post_form(page, email="ann@example.com", **ticked(purpose))
    record = ConsentRecord.objects.get()

    record.decision = "refused"
    with pytest.raises(AppendOnlyError):
        record.save()

    withdrawal = withdraw_consent(record.lead, purpose, language="en", channel="web")
    assert withdrawal.decision == "withdrawn"
    assert withdrawal.wording == record.wording
    assert ConsentRecord.objects.count() == 2
    assert withdraw_consent(record.lead, purpose, language="en", channel="web") is None


def test_bulk_rewrites_of_consent_records_are_refused(post_form):
    purpose = make_purpose()
    post_form(make_landing_page(purposes=[purpose]), email="ann@example.com")
    with pytest.raises(AppendOnlyError):
        ConsentRecord.objects.update(decision="granted")
    record = ConsentRecord.objects.get()
    record.decision = "granted"
    with pytest.raises(AppendOnlyError):
        ConsentRecord.objects.bulk_update([record], ["decision"])
    assert ConsentRecord.objects.get().decision == "refused"


def test_recording_consents_costs_the_same_queries_for_one_or_many_purposes():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from wagtail_leadgen.services.consent import record_decisions

    counts = []
    for size in (1, 4):
        purposes = [make_purpose() for _ in range(size)]
        page = make_landing_page(purposes=purposes)
        submission = make_submission(page, f"q{page.pk}@example.com", destinations=())
        with CaptureQueriesContext(connection) as queries:
            record_decisions(
                lead=submission.lead,
                submission=submission,
                decisions=dict.fromkeys(purposes, True),
                shown_versions={},
                language="en",
                channel="web",
            )
        counts.append(len(queries))
    assert counts[0] == counts[1]
