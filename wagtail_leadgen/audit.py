"""What the plugin writes to Wagtail's audit log about leads, and the writers (R19).

Every entry names a lead by its id (``Lead #12``), never by its address, and its
data holds ids, dates, counts and choices only: the audit log is read by more
people than the leads are, and must not become a copy of them.

An action is one ``LogFormatter`` subclass decorated with ``@lead_action(name)``;
the ``register_log_actions`` hook (``wagtail_hooks``) registers every one of
them. To add an action (a lead erased, a consent withdrawn by staff…), add its class here and a writer calling ``log_lead_action`` or
``log_lead_actions``.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from wagtail.log_actions import LogActionRegistry, LogFormatter
from wagtail.log_actions import log as log_action
from wagtail.log_actions import registry as log_registry

from .field_kinds import FORM_FIELD_KINDS
from .models import Lead, Rectification, Submission

#: Every action of the plugin, by name; filled by ``@lead_action``.
LEAD_ACTIONS: dict[str, type[LogFormatter]] = {}


def lead_action(name: str):
    """Class decorator: ``name`` is an audit-log action about a lead, formatted by the class."""

    def add(formatter: type[LogFormatter]) -> type[LogFormatter]:
        if name in LEAD_ACTIONS:
            raise ValueError(f"Audit-log action {name!r} is defined twice.")
        LEAD_ACTIONS[name] = formatter
        return formatter

    return add


def register_log_actions(actions: LogActionRegistry) -> None:
    """For the ``register_log_actions`` hook: every action defined here."""
    for name, formatter in LEAD_ACTIONS.items():
        actions.register_action(name)(formatter)


# -- Actions -------------------------------------------------------------------

VIEW_ACTION = "wagtail_leadgen.lead.view"
EXPORT_ACTION = "wagtail_leadgen.lead.export"


@lead_action(VIEW_ACTION)
class LeadViewedFormatter(LogFormatter):
    label = _("View lead")
    message = _("Viewed the lead's personal data")


@lead_action(EXPORT_ACTION)
class LeadExportedFormatter(LogFormatter):
    label = _("Export leads")

    def format_message(self, log_entry):
        data = log_entry.data or {}
        count = data.get("count", 0)
        return ngettext(
            "Exported to %(format)s (%(count)s lead in the file)",
            "Exported to %(format)s (%(count)s leads in the file)",
            count,
        ) % {"format": str(data.get("format", "")).upper(), "count": count}


CONSENT_CHANGE_APPLIED_ACTION = "wagtail_leadgen.lead.consent_change_applied"


@lead_action(CONSENT_CHANGE_APPLIED_ACTION)
class ConsentChangeAppliedFormatter(LogFormatter):
    label = _("Apply a consent change by hand")

    def format_message(self, log_entry):
        data = log_entry.data or {}
        return _(
            "Applied a consent change by hand at %(destination)s (delivery #%(delivery)s)"
        ) % {
            "destination": data.get("destination", ""),
            "delivery": data.get("delivery"),
        }


ERASE_ACTION = "wagtail_leadgen.lead.erase"


@lead_action(ERASE_ACTION)
class LeadErasedFormatter(LogFormatter):
    label = _("Erase lead")

    def format_message(self, log_entry):
        data = log_entry.data or {}
        return _("Erased the person's data (erasure #%(erasure)s)") % {
            "erasure": data.get("erasure")
        }


ERASURE_APPLIED_ACTION = "wagtail_leadgen.erasure.applied"


@lead_action(ERASURE_APPLIED_ACTION)
class ErasureAppliedFormatter(LogFormatter):
    label = _("Erase a person by hand at a CRM")

    def format_message(self, log_entry):
        data = log_entry.data or {}
        return _(
            "Erased the person by hand at %(destination)s (delivery #%(delivery)s)"
        ) % {
            "destination": data.get("destination", ""),
            "delivery": data.get("delivery"),
        }


SUBJECT_EXPORT_ACTION = "wagtail_leadgen.lead.subject_export"

#: Where a person's data was exported from, as shown in the audit log.
SUBJECT_EXPORT_CHANNELS = {
    "admin": _("from the admin"),
    "command": _("by the leadgen_export command"),
    "my_data": _("by the person, from their data page"),
}


@lead_action(SUBJECT_EXPORT_ACTION)
class SubjectExportedFormatter(LogFormatter):
    label = _("Export a person's data")

    def format_message(self, log_entry):
        data = log_entry.data or {}
        channel = SUBJECT_EXPORT_CHANNELS.get(data.get("channel", ""), "")
        return _("Exported the person's data to %(format)s %(channel)s") % {
            "format": str(data.get("format", "")).upper(),
            "channel": channel,
        }


MY_DATA_VIEW_ACTION = "wagtail_leadgen.lead.my_data_view"


@lead_action(MY_DATA_VIEW_ACTION)
class MyDataViewedFormatter(LogFormatter):
    label = _("Open one's data page")
    message = _("The person opened their data page, verified by email")


RECTIFY_ACTION = "wagtail_leadgen.lead.rectify"


@lead_action(RECTIFY_ACTION)
class LeadRectifiedFormatter(LogFormatter):
    label = _("Correct a lead's details")

    def format_message(self, log_entry):
        data = log_entry.data or {}
        fields = ", ".join(
            str(FORM_FIELD_KINDS.get(kind, kind)) for kind in data.get("fields", [])
        )
        return _("Corrected the person's details: %(fields)s") % {"fields": fields}


CORRECTION_APPLIED_ACTION = "wagtail_leadgen.lead.correction_applied"


@lead_action(CORRECTION_APPLIED_ACTION)
class CorrectionAppliedFormatter(LogFormatter):
    label = _("Apply a correction by hand")

    def format_message(self, log_entry):
        data = log_entry.data or {}
        return _(
            "Applied a correction by hand at %(destination)s (delivery #%(delivery)s)"
        ) % {
            "destination": data.get("destination", ""),
            "delivery": data.get("delivery"),
        }


# -- Spam review: quarantined submissions have no lead yet ------------------------

QUARANTINE_VIEW_ACTION = "wagtail_leadgen.spam.view"
SPAM_RELEASE_ACTION = "wagtail_leadgen.spam.release"
SPAM_DELETE_ACTION = "wagtail_leadgen.spam.delete"


@lead_action(QUARANTINE_VIEW_ACTION)
class QuarantineViewedFormatter(LogFormatter):
    label = _("View quarantined spam")
    message = _("Viewed a quarantined submission in the spam review list")


@lead_action(SPAM_RELEASE_ACTION)
class SpamReleasedFormatter(LogFormatter):
    label = _("Release quarantined spam")

    def format_message(self, log_entry):
        data = log_entry.data or {}
        return _(
            "Released quarantined submission #%(submission)s (held as %(reason)s) as a lead"
        ) % {"submission": data.get("submission"), "reason": data.get("reason", "")}


@lead_action(SPAM_DELETE_ACTION)
class SpamDeletedFormatter(LogFormatter):
    label = _("Delete quarantined spam")

    def format_message(self, log_entry):
        data = log_entry.data or {}
        return _("Deleted quarantined submission (held as %(reason)s)") % {
            "reason": data.get("reason", "")
        }


PACK_ACTION = "wagtail_leadgen.lead.auditor_pack"


@lead_action(PACK_ACTION)
class AuditorPackFormatter(LogFormatter):
    label = _("Make the auditor's pack")

    def format_message(self, log_entry):
        data = log_entry.data or {}
        channel = SUBJECT_EXPORT_CHANNELS.get(data.get("channel", ""), "")
        return _("Made the lead's auditor's pack %(channel)s") % {"channel": channel}


#: The actions listed under "Access history" on a lead's page: who saw the
#: person's data or took it out of the site.
ACCESS_ACTIONS = (
    VIEW_ACTION,
    EXPORT_ACTION,
    SUBJECT_EXPORT_ACTION,
    MY_DATA_VIEW_ACTION,
    PACK_ACTION,
)


# -- Writers -------------------------------------------------------------------


def lead_log_label(pk: int) -> str:
    """How a lead is named in the audit log: by id, never by its address."""
    return f"Lead #{pk}"


def log_lead_action(
    lead: Lead, action: str, *, user, data: dict[str, Any] | None = None
) -> None:
    """One entry about one lead. ``data`` must hold no personal data."""
    log_action(lead, action, user=user, title=lead_log_label(lead.pk), data=data)


def log_lead_actions(
    pks: Sequence[int], action: str, *, user, data: dict[str, Any]
) -> None:
    """One entry per lead, all sharing one UUID (one user action), inserted in bulk.

    ``log()`` would write one query per lead; this writes a thousand per query.
    ``data`` must hold no personal data.
    """
    log_model = log_registry.get_log_model_for_model(Lead)
    if not log_registry.action_exists(action):
        raise RuntimeError(f"{action} is not a registered log action.")
    content_type = ContentType.objects.get_for_model(Lead, for_concrete_model=False)
    action_uuid = uuid.uuid4()
    now = timezone.now()
    log_model.objects.bulk_create(
        [
            log_model(
                content_type=content_type,
                object_id=str(pk),
                label=lead_log_label(pk),
                action=action,
                user=user,
                uuid=action_uuid,
                timestamp=now,
                data=data,
            )
            for pk in pks
        ],
        batch_size=1000,
    )


def log_lead_viewed(lead: Lead, user) -> None:
    log_lead_action(lead, VIEW_ACTION, user=user)


def log_leads_exported(
    pks: Sequence[int], user, *, export_format: str, filters: dict[str, Any]
) -> None:
    """One entry per exported lead, so that a lead's history answers "who took my
    data out?". ``filters`` must hold no personal data (ids, dates and choices only).
    """
    log_lead_actions(
        pks,
        EXPORT_ACTION,
        user=user,
        data={"format": export_format, "count": len(pks), "filters": filters},
    )


def log_auditor_pack(lead: Lead, user, *, channel: str) -> None:
    """The lead's evidence (consent proofs, deliveries) was taken out: by staff
    (``user``) or by the command (no user). ``channel`` is a key of
    ``SUBJECT_EXPORT_CHANNELS``."""
    log_lead_action(lead, PACK_ACTION, user=user, data={"channel": channel})


def log_lead_rectified(rectification: Rectification, user) -> None:
    """A correction of the person's details: which answers, never their values."""
    log_lead_action(
        rectification.lead,
        RECTIFY_ACTION,
        user=user,
        data={
            "rectification": rectification.pk,
            "source": rectification.source,
            "fields": rectification.fields,
        },
    )


def log_consent_change_applied(delivery, user) -> None:
    """Staff applied a consent change, or a correction, by hand at a
    destination that could not."""
    if delivery.lead is None:
        return
    log_lead_action(
        delivery.lead,
        CORRECTION_APPLIED_ACTION
        if delivery.rectification_id
        else CONSENT_CHANGE_APPLIED_ACTION,
        user=user,
        data={"delivery": delivery.pk, "destination": delivery.backend_alias},
    )


def log_lead_erased(lead_pk: int, erasure, user) -> None:
    """Staff erased a person: the lead's id and the tombstone's, never the
    note (staff may have typed something personal in it)."""
    log_lead_actions(
        [lead_pk],
        ERASE_ACTION,
        user=user,
        data={"erasure": erasure.pk, "reason": erasure.reason},
    )


def log_erasure_applied(delivery, user) -> None:
    """Staff erased a person by hand at a destination that could not; logged
    on the erasure record (the lead is gone)."""
    log_action(
        delivery.erasure,
        ERASURE_APPLIED_ACTION,
        user=user,
        title=f"Erasure #{delivery.erasure_id}",
        data={"delivery": delivery.pk, "destination": delivery.backend_alias},
    )


def log_subject_exported(lead: Lead, user, *, export_format: str, channel: str) -> None:
    """A person's whole record was taken out: by staff (``user``), by the
    command or by the person themselves (no user). ``channel`` is a key of
    ``SUBJECT_EXPORT_CHANNELS``."""
    log_lead_action(
        lead,
        SUBJECT_EXPORT_ACTION,
        user=user,
        data={"format": export_format, "channel": channel},
    )


def log_my_data_viewed(lead: Lead) -> None:
    """The person verified their address and saw their data."""
    log_lead_action(lead, MY_DATA_VIEW_ACTION, user=None)


def submission_log_label(pk: int) -> str:
    """How a quarantined submission is named in the audit log: by id."""
    return f"Submission #{pk}"


def log_quarantine_viewed(submissions: Sequence[Submission], user) -> None:
    """One entry per quarantined submission shown to staff (with its address)."""
    log_model = log_registry.get_log_model_for_model(Submission)
    content_type = ContentType.objects.get_for_model(Submission)
    action_uuid = uuid.uuid4()
    now = timezone.now()
    log_model.objects.bulk_create(
        [
            log_model(
                content_type=content_type,
                object_id=str(submission.pk),
                label=submission_log_label(submission.pk),
                action=QUARANTINE_VIEW_ACTION,
                user=user,
                uuid=action_uuid,
                timestamp=now,
            )
            for submission in submissions
        ]
    )


def log_spam_released(lead: Lead, submission_pk: int, reason: str, user) -> None:
    """A quarantined submission became a lead: logged on that lead."""
    log_lead_action(
        lead,
        SPAM_RELEASE_ACTION,
        user=user,
        data={"submission": submission_pk, "reason": reason},
    )


def log_spam_deleted(submission: Submission, user) -> None:
    """Logged before the row goes; the entry names it by id only."""
    log_action(
        submission,
        SPAM_DELETE_ACTION,
        user=user,
        title=submission_log_label(submission.pk),
        data={"reason": submission.spam_reason},
    )


CALLBACK_CALLED_ACTION = "wagtail_leadgen.lead.callback_called"


@lead_action(CALLBACK_CALLED_ACTION)
class CallbackCalledFormatter(LogFormatter):
    label = _("Mark a call-back request called")

    def format_message(self, log_entry):
        data = log_entry.data or {}
        return _("Called back (request #%(callback)s): %(outcome)s") % {
            "callback": data.get("callback", "?"),
            "outcome": data.get("outcome", ""),
        }


def log_callback_called(callback, user) -> None:
    """A call made: which request and the outcome, never the number."""
    log_lead_action(
        callback.lead,
        CALLBACK_CALLED_ACTION,
        user=user,
        data={"callback": callback.pk, "outcome": callback.outcome},
    )
