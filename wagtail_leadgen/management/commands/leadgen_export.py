"""Print everything stored about one person, as JSON (R14, GDPR Art. 15 and 20).

    manage.py leadgen_export --email ann@example.com > ann.json

For a request received by post or email and handled by staff from a shell or
a script. The output is UTF-8 JSON (indented), the same as the person's own
download from their "my data" page. Each export is written to Wagtail's audit
log (the lead's id, never the address). An address that is not one, or that
nobody with this address left data, ends with an error and exit status 1.
"""

from __future__ import annotations

import json

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from ...audit import log_subject_exported
from ...services.subject import find_subject, subject_data


class Command(BaseCommand):
    help = "Print everything stored about the person with this address, as JSON."

    def add_arguments(self, parser):
        parser.add_argument(
            "--email", required=True, help="The person's email address."
        )

    def handle(self, *args, **options):
        try:
            lead = find_subject(options["email"])
        except ValidationError as error:
            raise CommandError("--email is not a valid email address.") from error
        if lead is None:
            raise CommandError("No data is stored for this address.")
        text = json.dumps(subject_data(lead), ensure_ascii=False, indent=2)
        log_subject_exported(lead, None, export_format="json", channel="command")
        reconfigure = getattr(self.stdout, "reconfigure", None)
        if reconfigure is not None:  # a terminal or pipe: UTF-8 whatever the locale
            reconfigure(encoding="utf-8")
        self.stdout.write(text)
