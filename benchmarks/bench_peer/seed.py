"""Create the peer page beside the demo's landing page, with the same texts
and the same fields."""

from __future__ import annotations

from wagtail.rich_text import RichText

from bench_peer.models import WagtailFormField, WagtailFormPage


def seed_peer(landing, fields: dict[str, tuple[str, str, bool]]) -> WagtailFormPage:
    """The peer of ``landing``: its title, intro and body text, and one field
    per field of its form: ``fields`` maps a name to the label the landing
    page shows, the form builder's kind (``email``, ``singleline``,
    ``checkbox``...) and whether it is required."""
    existing = WagtailFormPage.objects.first()
    if existing:
        return existing
    body = "".join(
        str(block.value.source if isinstance(block.value, RichText) else block.value)
        for block in landing.body
        if block.block_type == "paragraph"
    )
    page = WagtailFormPage(
        title=landing.title,
        slug="wagtail-form",
        intro=landing.intro,
        body=body,
        thank_you_text="<p>We will contact you shortly.</p>",
        to_address="sales@example.com",
        from_address="website@example.com",
        subject="New audit request",
    )
    landing.get_parent().add_child(instance=page)
    for order, (name, (label, kind, required)) in enumerate(fields.items()):
        WagtailFormField.objects.create(
            page=page,
            sort_order=order,
            label=label,
            field_type=kind,
            required=required,
            clean_name=name,
        )
    page.save_revision().publish()
    return page
