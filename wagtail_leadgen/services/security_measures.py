"""The security measures the records of processing state (R18, R19; GDPR Art. 30(1)(g)).

Only what is true of this installation: what the plugin always enforces,
and what the site's settings turn on (HTTPS, HSTS, secure cookies, the
Content-Security-Policy, the proof of work). Read when the register is
built, so a changed setting shows at once.
"""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext as _

from ..conf import leadgen_settings


def _always_enforced() -> list[str]:
    return [
        _(
            "Seeing leads needs the view_lead permission and exporting them "
            "export_lead, both separate from page editing."
        ),
        _(
            "Every view and export of a person's data is written to the audit "
            "log, which names the lead by its number, never by its address."
        ),
        _(
            "No IP address is stored; anti-spam uses a hidden field, a minimum "
            "fill time and a per-IP rate limit kept in the cache under a keyed hash."
        ),
        _(
            "Objections are kept as a keyed hash of the address, never in clear, "
            "so that they outlive an erasure."
        ),
        _(
            "Consent proofs are append-only and carry the SHA-256 fingerprint of "
            "the exact wording shown."
        ),
        _(
            "Exports are never cached and neutralise spreadsheet formulas typed "
            "into the answers."
        ),
        _(
            "Erasure on request removes the person from every table and is passed "
            "on to each CRM destination that received the lead."
        ),
        _(
            "Data past its retention period is deleted by the leadgen_purge "
            "command, run on a schedule."
        ),
    ]


def _from_settings() -> list[str]:
    measures = []
    if getattr(settings, "SECURE_SSL_REDIRECT", False):
        measures.append(_("Every page is served over HTTPS only."))
    hsts_seconds = getattr(settings, "SECURE_HSTS_SECONDS", 0) or 0
    if hsts_seconds > 0:
        measures.append(
            _("Browsers are told to use HTTPS only (HSTS, %(days)s days).")
            % {"days": hsts_seconds // (24 * 60 * 60)}
        )
    if getattr(settings, "SESSION_COOKIE_SECURE", False) and getattr(
        settings, "CSRF_COOKIE_SECURE", False
    ):
        measures.append(_("Session and CSRF cookies are sent over HTTPS only."))
    if leadgen_settings.CONTENT_SECURITY_POLICY:
        measures.append(
            _(
                "Public pages send a Content-Security-Policy and load no "
                "third-party script."
            )
        )
    if leadgen_settings.PROOF_OF_WORK:
        measures.append(
            _("Forms ask the browser for a self-hosted proof of work against bots.")
        )
    return measures


def security_measures() -> tuple[str, ...]:
    """The measures that protect every processing of the plugin, as sentences."""
    return (*_always_enforced(), *_from_settings())
