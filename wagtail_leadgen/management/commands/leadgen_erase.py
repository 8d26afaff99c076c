"""Erase a person (R15): the same erasure as "Erase this person" in the admin.

    manage.py leadgen_erase --email ann@example.com --reason "letter of 3 May"

Prints what was deleted and which CRMs are asked to erase, never the address.
The CRMs are asked through the outbox (``leadgen_deliver`` or the task queue).
"""

from __future__ import annotations

from django.apps import apps
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from ...models import Erasure
from ...services.erasure import erase_address
from ...validators import validate_lead_email


def describe_removed(removed: dict[str, int]) -> str:
    """ "1 lead, 2 submissions…" from an erasure's counts by model label."""
    parts = []
    for label, count in removed.items():
        try:
            meta = apps.get_model(label)._meta
            name = meta.verbose_name if count == 1 else meta.verbose_name_plural
        except LookupError:
            name = label
        parts.append(f"{count} {name}")
    return ", ".join(parts) or "nothing"


class Command(BaseCommand):
    help = "Erase everything stored about one email address and ask the CRMs to."

    def add_arguments(self, parser):
        parser.add_argument("--email", required=True, help="The person's address.")
        parser.add_argument(
            "--reason",
            required=True,
            help="How the request came in (kept with the erasure record; "
            "never the person's address or name).",
        )
        parser.add_argument(
            "--requested-by",
            default="leadgen_erase",
            help="Who handles the request (kept; default: leadgen_erase).",
        )

    def handle(self, *args, **options):
        reason = options["reason"].strip()
        if not reason:
            raise CommandError("--reason must say how the request came in.")
        try:
            validate_lead_email(options["email"].strip())
        except ValidationError as error:
            raise CommandError(
                "--email is not a valid email address: give the person's "
                "address, e.g. --email ann@example.com."
            ) from error
        erasure = erase_address(
            options["email"],
            reason=Erasure.Reason.STAFF,
            requested_by=options["requested_by"],
            note=reason,
        )
        if erasure is None:
            self.stdout.write("Nothing is stored about this address: nothing erased.")
            return
        self.stdout.write(
            f"Erasure #{erasure.pk}: deleted {describe_removed(erasure.removed)}."
        )
        if erasure.destinations:
            self.stdout.write(
                "CRMs asked to erase the person: "
                f"{', '.join(erasure.destinations)} (see the erasures list)."
            )
        else:
            self.stdout.write("No CRM had the person.")
