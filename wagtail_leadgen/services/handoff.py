"""Where a lead went and why not elsewhere: the handoff as the lead's page shows it.

Each destination a lead's pages route to either has the lead (a lead
delivery, delivered or on its way) or does not, and then there is a reason:
the destination needs a consent the person has not given (purpose
limitation, R17), or one still awaiting its email confirmation (R12), or it
cannot be built. The decision itself is taken when deliveries are planned
(``services.outbox``); this module only explains it, from the same
``RECEIVES`` setting and the person's consent state.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import swapper
from django.db.models import Q
from django.utils.translation import gettext as _

from ..crm import get_backend
from ..crm.base import CRMConfigurationError
from ..crm.destination import Recipient
from ..models.consent import ConsentDecision, ConsentPurpose
from ..models.delivery import Delivery, DeliveryKind
from ..models.leads import Lead
from .consent import current_state


@dataclass(frozen=True)
class Handoff:
    """One destination, for one lead: has it the lead, and if not, why."""

    alias: str
    delivery: Delivery | None
    reasons: tuple[str, ...] = ()
    recipient: Recipient | None = None

    @property
    def received(self) -> bool:
        return self.delivery is not None


def _purposes_named(references: Iterable[int | str]) -> dict[int | str, Any]:
    """The purposes a ``RECEIVES`` list names, by the id or name it uses."""
    references = list(references)
    ids = [ref for ref in references if isinstance(ref, int)]
    names = [ref for ref in references if isinstance(ref, str)]
    found: dict[int | str, Any] = {}
    for purpose in ConsentPurpose.objects.filter(Q(pk__in=ids) | Q(name__in=names)):
        found[purpose.pk] = purpose
        found[purpose.name] = purpose
    return found


def _why_not(alias: str, state: dict[int, Any]) -> tuple[str, ...]:
    """Why a destination has not received the lead."""
    try:
        receives = get_backend(alias).receives
    except CRMConfigurationError:
        return (_("The destination is misconfigured: see manage.py check."),)
    if receives.request:
        return (
            _(
                "Not planned: the page was routed here after the person's last "
                "form, or the destination was added since."
            ),
        )
    purposes = _purposes_named(receives.purposes)
    needed, pending = [], []
    for reference in receives.purposes:
        purpose = purposes.get(reference)
        record = state.get(purpose.pk) if purpose is not None else None
        name = purpose.name if purpose is not None else str(reference)
        if record is None or record.decision in (
            ConsentDecision.WITHDRAWN,
            ConsentDecision.EXPIRED,
        ):
            needed.append(name)
        elif record.decision == ConsentDecision.PENDING:
            pending.append(name)
    reasons = []
    if needed:
        reasons.append(
            _("Needs consent: %(purposes)s") % {"purposes": ", ".join(needed)}
        )
    if pending:
        reasons.append(
            _("Consent pending confirmation: %(purposes)s")
            % {"purposes": ", ".join(pending)}
        )
    if not reasons:  # every consent it needs is in force: given since
        reasons.append(
            _(
                "Not sent yet: the consents it needs were given after the "
                "person's last form."
            )
        )
    return tuple(reasons)


def handoff_for(lead: Lead) -> list[Handoff]:
    """Each destination of the lead's pages (and any that has the lead), in
    the order the pages name them: its latest lead delivery, or why none."""
    aliases: dict[str, None] = {}
    page_ids = lead.submissions.filter(is_spam=False, page__isnull=False).values(
        "page_id"
    )
    Page = swapper.load_model("wagtailcore", "Page")
    for page in Page.objects.filter(pk__in=page_ids).order_by("pk").specific():
        if hasattr(page, "get_crm_destinations"):
            aliases.update(dict.fromkeys(page.get_crm_destinations()))
    latest: dict[str, Delivery] = {}
    for delivery in Delivery.objects.filter(lead=lead, kind=DeliveryKind.LEAD).order_by(
        "created_at", "pk"
    ):
        latest[delivery.backend_alias] = delivery
        aliases.setdefault(delivery.backend_alias, None)
    state = current_state(lead)
    result = []
    for alias in aliases:
        try:
            recipient = get_backend(alias).recipient
        except CRMConfigurationError:
            recipient = None
        found = latest.get(alias)
        reasons = () if found is not None else _why_not(alias, state)
        result.append(Handoff(alias, found, reasons, recipient))
    return result
