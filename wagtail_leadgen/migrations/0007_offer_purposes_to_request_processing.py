"""The offer is not a checkbox: "offer" purposes become request processings.

Before this release a consent purpose could be flagged as the offer itself
(``is_offer``), which made its checkbox required. What is needed to deliver
what the visitor asks for rests on the request, not on consent, so:

- each offer purpose becomes a ``RequestProcessing`` with the same wording,
  recipients and retention (its basis: the request, unless it already named
  another non-consent basis), attached to the plugin's pages that showed it,
  and is detached from those pages' checkboxes;
- pages without one get a default "Answering your request", with the
  sentence the notice always printed;
- every lead gets its own preferences link key.

Consent records already written for offer purposes are kept as they are:
they are the proof of what was shown then. Sites with their own page types
built on the mixins should detach offer purposes and choose a request
processing on those pages (see CHANGELOG).
"""

import secrets

from django.db import migrations

DEFAULT_TEXT = "<p>We use your email address and answers to handle your request.</p>"


def offer_purposes_to_request_processing(apps, schema_editor):
    ConsentPurpose = apps.get_model("wagtail_leadgen", "ConsentPurpose")
    RequestProcessing = apps.get_model("wagtail_leadgen", "RequestProcessing")
    Lead = apps.get_model("wagtail_leadgen", "Lead")
    page_models = [
        apps.get_model("wagtail_leadgen", name) for name in ("LandingPage", "EbookPage")
    ]

    converted = {}
    for purpose in ConsentPurpose.objects.filter(is_offer=True):
        basis = purpose.legal_basis if purpose.legal_basis != "consent" else "contract"
        converted[purpose.pk] = RequestProcessing.objects.create(
            name=purpose.name,
            summary=purpose.checkbox_label[:200],
            purpose_text=purpose.purpose_text,
            legal_basis=basis,
            recipients=purpose.recipients,
            retention_months=purpose.retention_months,
            live=purpose.live,
        )

    default = None
    for model in page_models:
        for page in model.objects.all():
            offers = [
                converted[pk]
                for pk in page.consent_purposes.values_list("pk", flat=True)
                if pk in converted
            ]
            if offers:
                page.request_processing = offers[0]
                page.consent_purposes.remove(*[p.pk for p in ConsentPurpose.objects.filter(pk__in=converted)])
            elif page.request_processing_id is None:
                if default is None:
                    default = RequestProcessing.objects.create(
                        name="Answering your request",
                        summary="We use your email address and answers to handle your request.",
                        purpose_text=DEFAULT_TEXT,
                        legal_basis="contract",
                        recipients="Our team",
                        retention_months=12,
                        live=True,
                    )
                page.request_processing = default
            page.save(update_fields=["request_processing"])

    for lead in Lead.objects.only("pk").iterator():
        Lead.objects.filter(pk=lead.pk).update(preferences_nonce=secrets.token_hex(16))


class Migration(migrations.Migration):
    dependencies = [("wagtail_leadgen", "0006_consent_lifecycle")]

    operations = [
        migrations.RunPython(
            offer_purposes_to_request_processing, migrations.RunPython.noop
        ),
    ]
