"""Print everything stored about one person, as JSON (R14, GDPR Art. 15 and 20).

    manage.py leadgen_export --email ann@example.com > ann.json
    manage.py leadgen_export --email ann@example.com --pack > ann-pack.zip

For a request received by post or email and handled by staff from a shell or
a script. The output is UTF-8 JSON (indented), the same as the person's own
download from their "my data" page. Each export is written to Wagtail's audit
log (the lead's id, never the address). An address that is not one, or that
nobody with this address left data, ends with an error and exit status 1.

``--pack`` writes the auditor's pack instead (``services.pack``): a ZIP with
the records of processing and the person's consent proofs, withdrawals and
deliveries. It is binary, so it is refused on a terminal: redirect it.
"""

from __future__ import annotations

import json

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from ...audit import log_auditor_pack, log_subject_exported
from ...models import Lead
from ...services.pack import auditor_pack
from ...services.subject import find_subject, subject_data


class Command(BaseCommand):
    help = "Print everything stored about the person with this address, as JSON."

    def add_arguments(self, parser):
        parser.add_argument(
            "--email", required=True, help="The person's email address."
        )
        parser.add_argument(
            "--pack",
            action="store_true",
            help="Write the auditor's pack (a ZIP file) instead of the JSON.",
        )

    def handle(self, *args, **options):
        try:
            lead = find_subject(options["email"])
        except ValidationError as error:
            raise CommandError("--email is not a valid email address.") from error
        if lead is None:
            raise CommandError("No data is stored for this address.")
        if options["pack"]:
            self.write_pack(lead)
            return
        text = json.dumps(subject_data(lead), ensure_ascii=False, indent=2)
        log_subject_exported(lead, None, export_format="json", channel="command")
        reconfigure = getattr(self.stdout, "reconfigure", None)
        if reconfigure is not None:  # a terminal or pipe: UTF-8 whatever the locale
            reconfigure(encoding="utf-8")
        self.stdout.write(text)

    def write_pack(self, lead: Lead) -> None:
        """The ZIP, as bytes, to the binary stream under stdout."""
        binary = getattr(self.stdout, "buffer", None)
        if binary is None or self.stdout.isatty():
            raise CommandError(
                "--pack writes a ZIP file: redirect the output, e.g. > pack.zip."
            )
        content = auditor_pack(lead)
        log_auditor_pack(lead, None, channel="command")
        binary.write(content)
        binary.flush()
