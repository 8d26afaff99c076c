"""Emails to visitors: the double opt-in confirmation (R12) and the "my data"
link (R14), each with a way out (R13) and a link to the person's data page.

This is the worker side of double opt-in, beside the delivery worker: below
the services and the tasks, above the models. The confirmation task
(``tasks.send_confirmation_email``) and ``manage.py
leadgen_send_confirmations`` run it without reaching the services, and it
never enqueues anything itself.

- Links are built from ``SITE_URL``, else the root URL of the page's Wagtail
  Site; never from a request's Host header. A link that ``HEADLESS_LINKS``
  hands to a decoupled front end is that template with the token in it;
  ``List-Unsubscribe`` always names the plugin's own one-click address.
- Every email carries ``List-Unsubscribe`` (https, plus mailto: when an
  address is known), ``List-Unsubscribe-Post`` (RFC 8058), a ``Message-ID``
  and a visible link to the preferences page. Nothing a visitor typed goes
  into a header except the recipient address, which passed the intake's
  validation.
- The link's token is made here, when the email is sent: only its SHA-256 is
  stored, and the task carries the request's id only.
- A request is claimed (token hash, ``sent_at``, ``expires_at``) by a
  conditional update before its email goes out, so two workers never send
  it twice; when the mail backend fails, the claim is released and the
  request is sent later (the task's retry or ``leadgen_send_confirmations``),
  until its deadline: ``expires_at``, which before sending is the latest time
  to send.
"""

from __future__ import annotations

import contextlib
import hashlib
import html
import logging
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import make_msgid
from enum import StrEnum
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.core.mail import EmailMultiAlternatives
from django.db.models import Q, QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.crypto import salted_hmac
from django.utils.html import strip_tags
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext
from wagtail.models import Site

from .conf import TOKEN_PLACEHOLDER, is_plain_address, leadgen_settings
from .models.access import AccessRequest
from .models.consent import STATE_DECISIONS, ConsentDecision, ConsentRecord
from .models.leads import Lead
from .models.privacy import ConfirmationRequest
from .models.profiling import has_profiling
from .models.settings import LeadgenSiteSettings
from .sanitize import clean_purpose_html
from .tokens import make_preferences_token, make_profile_link_token
from .validators import normalise_email

logger = logging.getLogger("wagtail_leadgen.optin")

TOKEN_BYTES = 32
# What ``secrets.token_urlsafe(TOKEN_BYTES)`` makes; anything else is not ours.
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{43}")
_THROTTLE_SALT = "wagtail_leadgen.confirmation-throttle"
ONE_CLICK = "List-Unsubscribe=One-Click"


class Outcome(StrEnum):
    """What one attempt to send a confirmation email did (the task's result)."""

    SENT = "sent"
    FAILED = "failed"  # the mail backend failed: sent again later
    THROTTLED = "throttled"  # too many for this address: not sent
    NOTHING_PENDING = "nothing pending"  # withdrawn or confirmed meanwhile
    DONE = "done"  # already sent, confirmed, or erased
    LATE = "late"  # past its deadline
    NO_ONE = "no one"  # a "my data" request for an address we do not know


# -- Tokens -----------------------------------------------------------------------
def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def is_confirmation_token(token: str) -> bool:
    """Whether ``token`` has the shape of a confirmation token (not whether it is one)."""
    return bool(_TOKEN_SHAPE.fullmatch(token))


# -- Links ------------------------------------------------------------------------
def site_for(page: Any = None) -> Site | None:
    """The Wagtail Site of ``page``, else the default site."""
    site = page.get_site() if page is not None else None
    return site or Site.objects.filter(is_default_site=True).first()


def site_root_url(page: Any = None) -> str:
    """The public root of links in emails: ``SITE_URL``, else the root URL of
    the page's Wagtail Site. Never the Host header of a request."""
    configured = leadgen_settings.site_url
    if configured:
        return configured
    site = site_for(page)
    if site is None:
        raise ImproperlyConfigured(
            "Links in emails need a Wagtail Site or WAGTAIL_LEADGEN['SITE_URL']."
        )
    return site.root_url.rstrip("/")


def absolute_url(path: str, page: Any = None) -> str:
    return site_root_url(page) + path


def headless_link(key: str, token: str) -> str | None:
    """The front end's page for link ``key`` of ``HEADLESS_LINKS`` with
    ``token`` in it (URL-encoded), or None: the plugin's own page."""
    template = leadgen_settings.headless_links.get(key)
    if template is None:
        return None
    return template.replace(TOKEN_PLACEHOLDER, quote(token, safe=""))


def confirmation_url(token: str, page: Any = None) -> str:
    return headless_link("confirm", token) or absolute_url(
        reverse("wagtail_leadgen:confirm", args=[token]), page
    )


def preferences_url(lead: Lead, page: Any = None) -> str:
    token = make_preferences_token(lead.pk, lead.preferences_nonce)
    return headless_link("preferences", token) or absolute_url(
        reverse("wagtail_leadgen:preferences", args=[token]), page
    )


def profile_url(lead: Lead, page: Any = None) -> str | None:
    """The offer page's address with the person's profiling link token
    (``PROFILING``): a shorter form there, bound to them; None when the page
    asks no further questions (``models.profiling``) or is not live."""
    page = page.specific if page is not None else None
    parts = page.get_url_parts() if has_profiling(page) and page.live else None
    if parts is None:
        return None
    token = make_profile_link_token(lead.pk, lead.preferences_nonce)
    query = urlencode({leadgen_settings.profiling["LINK_PARAMETER"]: token})
    return f"{site_root_url(page)}{parts[2]}?{query}"


def my_data_url(page: Any = None) -> str:
    """The person's data page, where they ask for a link to see their data."""
    return absolute_url(reverse("wagtail_leadgen:my_data"), page)


def my_data_verify_url(token: str, page: Any = None) -> str:
    return headless_link("my_data_verify", token) or absolute_url(
        reverse("wagtail_leadgen:my_data_verify", args=[token]), page
    )


def _unsubscribe_token(lead: Lead, purpose: Any) -> str:
    return make_preferences_token(
        lead.pk, lead.preferences_nonce, None if purpose is None else purpose.pk
    )


def unsubscribe_url(lead: Lead, purpose: Any = None, page: Any = None) -> str:
    """The one-click link: withdraws ``purpose``, or every marketing consent
    (and objects to all marketing) when None. Always the plugin's own
    address, whatever ``HEADLESS_LINKS`` says: a mail program POSTs to it."""
    token = _unsubscribe_token(lead, purpose)
    return absolute_url(reverse("wagtail_leadgen:unsubscribe", args=[token]), page)


def unsubscribe_page_url(lead: Lead, purpose: Any = None, page: Any = None) -> str:
    """The unsubscribe link for a person to open: the front end's page when
    ``HEADLESS_LINKS["unsubscribe"]`` is set, else ``unsubscribe_url``."""
    return headless_link(
        "unsubscribe", _unsubscribe_token(lead, purpose)
    ) or unsubscribe_url(lead, purpose, page)


def unsubscribe_mailto(site: Site | None) -> str | None:
    """``UNSUBSCRIBE_MAILTO``, else the controller's contact email, if plain."""
    address = leadgen_settings.unsubscribe_mailto
    if address is None and site is not None:
        address = LeadgenSiteSettings.for_site(site).contact_email or None
    return address if address and is_plain_address(address) else None


def visitor_headers(lead: Lead, *, page: Any = None, purpose: Any = None):
    """The headers every email to a visitor carries (RFC 2369, RFC 8058)."""
    root = site_root_url(page)
    targets = [f"<{unsubscribe_url(lead, purpose, page)}>"]
    mailto = unsubscribe_mailto(site_for(page))
    if mailto:
        targets.append(f"<mailto:{mailto}?subject=unsubscribe>")
    return {
        "Message-ID": make_msgid(domain=urlsplit(root).hostname),
        "List-Unsubscribe": ", ".join(targets),
        "List-Unsubscribe-Post": ONE_CLICK,
    }


def visitor_message(
    lead: Lead,
    *,
    subject: str,
    template: str,
    context: dict[str, Any],
    page: Any = None,
    purpose: Any = None,
) -> EmailMultiAlternatives:
    """An email to a visitor: ``<template>.txt`` and ``<template>.html``, with
    the unsubscribe headers and, in the context, the links to the person's
    preferences and data pages."""
    context = {
        **context,
        "preferences_url": preferences_url(lead, page),
        "my_data_url": my_data_url(page),
        "controller": _controller(page),
    }
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string(f"{template}.txt", context),
        from_email=leadgen_settings.EMAIL_FROM or settings.DEFAULT_FROM_EMAIL,
        to=[lead.email],
        headers=visitor_headers(lead, page=page, purpose=purpose),
    )
    message.attach_alternative(
        render_to_string(f"{template}.html", context), "text/html"
    )
    return message


def _controller(page: Any) -> LeadgenSiteSettings | None:
    site = site_for(page)
    return LeadgenSiteSettings.for_site(site) if site is not None else None


# -- Throttle ---------------------------------------------------------------------
def _throttle_key(email: str) -> str:
    digest = salted_hmac(
        _THROTTLE_SALT, normalise_email(email), algorithm="sha256"
    ).hexdigest()[:32]
    return f"wagtail_leadgen:optin:{digest}"


def reserve_confirmation_email(email: str) -> bool:
    """Count one confirmation email to ``email``; False once the address had
    ``CONFIRMATION_EMAILS_PER_ADDRESS`` in the current window."""
    key = _throttle_key(email)
    window = leadgen_settings.CONFIRMATION_EMAILS_WINDOW
    cache.add(key, 0, timeout=window)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window)
        count = 1
    return count <= leadgen_settings.CONFIRMATION_EMAILS_PER_ADDRESS


def forget_addresses(emails: Iterable[str]) -> None:
    """Drop these addresses' throttle counts (an erasure leaves no trace of
    them): one call to the cache, however many."""
    cache.delete_many([_throttle_key(email) for email in emails])


def release_confirmation_email(email: str) -> None:
    """Give back a count reserved for an email that was not sent after all."""
    with contextlib.suppress(ValueError):  # the window ended meanwhile
        cache.decr(_throttle_key(email))


# -- Confirmation emails ----------------------------------------------------------
@dataclass(frozen=True)
class Wording:
    """A purpose's wording as the visitor saw it: label and sanitised text."""

    label: str
    text_html: SafeString

    @property
    def text(self) -> str:
        return html.unescape(strip_tags(self.text_html)).strip()


def wording_of(record: ConsentRecord) -> Wording:
    label, _blank, text = record.wording.partition("\n\n")
    return Wording(label=label, text_html=mark_safe(clean_purpose_html(text)))  # noqa: S308 -- cleaned by nh3


def pending_records(request: ConfirmationRequest) -> list[ConsentRecord]:
    """The consents the request's submission left pending that are still
    pending now (not confirmed, withdrawn or expired since)."""
    records = ConsentRecord.objects.filter(
        submission_id=request.submission_id,
        lead_id=request.lead_id,
        decision=ConsentDecision.PENDING,
    ).select_related("purpose")
    still = []
    for record in records.order_by("purpose__name", "pk"):
        latest = (
            ConsentRecord.objects.filter(
                lead_id=request.lead_id,
                purpose_id=record.purpose_id,
                decision__in=STATE_DECISIONS,
            )
            .order_by("-created_at", "-pk")
            .values_list("decision", flat=True)
            .first()
        )
        if latest == ConsentDecision.PENDING:
            still.append(record)
    return still


def confirmation_message(
    request: ConfirmationRequest, records: Sequence[ConsentRecord], token: str
) -> EmailMultiAlternatives:
    """The confirmation email, in the language of the submission."""
    page = request.submission.page
    with translation.override(request.submission.language or None):
        max_age = leadgen_settings.CONFIRMATION_MAX_AGE
        context = {
            "wordings": [wording_of(record) for record in records],
            "confirm_url": confirmation_url(token, page),
            "profile_url": profile_url(request.lead, page),
            "hours": max(1, round(max_age / 3600)),
        }
        return visitor_message(
            request.lead,
            subject=gettext("Please confirm your subscription"),
            template="wagtail_leadgen/emails/confirmation",
            context=context,
            page=page,
        )


def _give_up(request: ConfirmationRequest, now: datetime) -> None:
    """Not to be sent: its deadline is now (the pending consents expire
    once no other link can confirm them, see ``leadgen_expire_confirmations``)."""
    ConfirmationRequest.objects.filter(pk=request.pk, sent_at__isnull=True).update(
        expires_at=now
    )


def send_confirmation(request_id: int) -> Outcome:
    """Send the confirmation email of one request, once.

    A misconfiguration (no site root, URLs not included) raises; a failing
    mail backend gives ``Outcome.FAILED`` and leaves the request to send again.
    """
    now = timezone.now()
    request = (
        ConfirmationRequest.objects.select_related("lead", "submission__page")
        .filter(pk=request_id)
        .first()
    )
    if request is None or request.sent_at or request.confirmed_at:
        return Outcome.DONE
    if request.expires_at is not None and request.expires_at <= now:
        return Outcome.LATE
    records = pending_records(request)
    if not records:
        _give_up(request, now)
        return Outcome.NOTHING_PENDING
    email = request.lead.email
    if not reserve_confirmation_email(email):
        _give_up(request, now)
        logger.warning(
            "Confirmation email %s not sent: too many for one address", request.pk
        )
        return Outcome.THROTTLED
    token = secrets.token_urlsafe(TOKEN_BYTES)
    digest = token_hash(token)
    try:
        message = confirmation_message(request, records, token)
    except Exception:
        release_confirmation_email(email)
        raise
    claimed = ConfirmationRequest.objects.filter(
        pk=request.pk, sent_at__isnull=True, confirmed_at__isnull=True
    ).update(
        token_hash=digest,
        sent_at=now,
        expires_at=now + timedelta(seconds=leadgen_settings.CONFIRMATION_MAX_AGE),
    )
    if not claimed:  # another worker sent it meanwhile
        release_confirmation_email(email)
        return Outcome.DONE
    try:
        message.send()
    except Exception as error:
        release_confirmation_email(email)
        ConfirmationRequest.objects.filter(pk=request.pk, token_hash=digest).update(
            token_hash=None, sent_at=None, expires_at=request.expires_at
        )
        logger.warning(
            "Confirmation email %s could not be sent (%s); it will be tried again",
            request.pk,
            type(error).__name__,
        )
        return Outcome.FAILED
    logger.info("Confirmation email %s sent", request.pk)
    return Outcome.SENT


def due_confirmations(now: datetime | None = None) -> QuerySet[ConfirmationRequest]:
    """Requests whose email is still to send: never sent, not past their deadline."""
    now = now or timezone.now()
    return ConfirmationRequest.objects.filter(
        Q(expires_at__isnull=True) | Q(expires_at__gt=now),
        sent_at__isnull=True,
        confirmed_at__isnull=True,
    ).order_by("pk")


# -- "My data" links --------------------------------------------------------------
def send_my_data_link(lead_id: int) -> Outcome:
    """Email the person a link to their data: single use, valid for
    ``MY_DATA_LINK_MAX_AGE``, in the language of their latest form. Only the
    token's SHA-256 is stored (``AccessRequest``); a failing mail backend
    leaves no usable request behind (the person asks again)."""
    lead = Lead.objects.filter(pk=lead_id).first()
    if lead is None:  # erased meanwhile
        return Outcome.NO_ONE
    latest = (
        lead.submissions.filter(is_spam=False)
        .select_related("page")
        .order_by("-created_at", "-pk")
        .first()
    )
    page = latest.page if latest is not None else None
    token = secrets.token_urlsafe(TOKEN_BYTES)
    with translation.override((latest.language if latest else "") or None):
        minutes = max(1, round(leadgen_settings.MY_DATA_LINK_MAX_AGE / 60))
        message = visitor_message(
            lead,
            subject=gettext("Your link to see your data"),
            template="wagtail_leadgen/emails/my_data",
            context={"link": my_data_verify_url(token, page), "minutes": minutes},
            page=page,
        )
    access = AccessRequest.objects.create(
        lead=lead, token_hash=token_hash(token), sent_at=timezone.now()
    )
    try:
        message.send()
    except Exception as error:
        access.delete()
        logger.warning(
            "Data access email %s could not be sent (%s)",
            access.pk,
            type(error).__name__,
        )
        return Outcome.FAILED
    logger.info("Data access email %s sent", access.pk)
    return Outcome.SENT
