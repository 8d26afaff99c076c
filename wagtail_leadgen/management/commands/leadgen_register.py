"""Print the records of processing (R18; GDPR Art. 30).

    manage.py leadgen_register                      JSON (the default)
    manage.py leadgen_register --format csv > register.csv
    manage.py leadgen_register --format html > register.html   printable
    manage.py leadgen_register --site www.example.com

The register is generated from the configuration each time (published
purposes and request processings, live lead pages, CRM destinations,
settings), so the output is always current. ``--site`` (id or hostname)
names the site whose controller and pages count; by default the default
site's controller and every live page.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from wagtail.models import Site

from ...services.register import (
    FORMATS,
    register_csv,
    register_entries,
    register_html,
    register_json,
)


def find_site(reference: str) -> Site:
    """The site with this id or hostname; a clear error otherwise."""
    sites = Site.objects.all()
    site = (
        sites.filter(pk=int(reference)).first()
        if reference.isdigit()
        else sites.filter(hostname=reference).first()
    )
    if site is None:
        known = ", ".join(f"{s.pk} ({s.hostname})" for s in sites.order_by("pk"))
        raise CommandError(
            f"No site with id or hostname {reference!r}. Sites: {known}."
        )
    return site


class Command(BaseCommand):
    help = "Print the records of processing as JSON, CSV or printable HTML."

    def add_arguments(self, parser):
        parser.add_argument(
            "--format",
            default="json",
            help="json (default), csv or html.",
        )
        parser.add_argument(
            "--site",
            help="Id or hostname of the site whose controller and pages count.",
        )

    def handle(self, *args, **options):
        file_format = str(options["format"]).lower()
        if file_format not in FORMATS:
            raise CommandError(
                f"Unknown format {options['format']!r}: use json, csv or html."
            )
        site = find_site(options["site"]) if options["site"] else None
        entries = register_entries(site=site)
        if file_format == "json":
            text = register_json(entries) + "\n"
        elif file_format == "csv":
            text = b"".join(register_csv(entries)).decode("utf-8")
        else:
            text = register_html(entries)
        self.stdout.write(text, ending="")
