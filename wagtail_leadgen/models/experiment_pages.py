"""Serving a lead page while an A/B test of its offer runs (docs/ab-testing.md).

The variant is chosen on the server, for each request:

1. a campaign link ``?variant=<key>`` fixes it (an unknown or forged key
   gets the control). The address names the variant, so a shared cache (a
   CDN, ``rendered_once``) may hold that page: it is the same for everyone
   who follows the link;
2. with the site's analytics consent (``CONSENT_STATE``), a signed
   first-party cookie keeps the visitor on the variant they got first;
3. otherwise it is drawn by the test's weights. Such a page is chosen for
   this request only, so it goes out private: no shared cache may serve it
   to someone else, and no cookie is set or read without consent.

The variant travels in the form's signed token, so a submission is
attributed to the variant its visitor saw, and nothing identifies them.
"""

from __future__ import annotations

import copy
import logging
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import models
from django.http import HttpRequest, HttpResponse
from django.utils.html import escape, linebreaks

from ..conf import leadgen_settings
from ..forms import TOKEN_FIELD

# A page counts its own views while a test runs, as ``mixins`` does (named in
# the import-linter contract).
from ..services.experiment_counts import count_variant_view
from ..tokens import InvalidToken, read_form_token, with_variant
from .experiments import CONTROL, Experiment, ExperimentStatus
from .freshness import cached

if TYPE_CHECKING:
    from wagtail.models import AbstractPage as _MixedIntoPage
else:
    _MixedIntoPage = models.Model

logger = logging.getLogger("wagtail_leadgen.experiments")

COOKIE_SALT = "wagtail_leadgen.experiment-variant"
_ASSIGNMENT = "_leadgen_variant"
# Draws the variant of a visitor without consent: nothing predictable.
_system_random = random.SystemRandom()


@dataclass(frozen=True)
class RunningTest:
    """What serving needs of a running test, kept per content stamp."""

    id: int
    arms: tuple[tuple[str, int], ...]
    texts: dict[str, dict[str, str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Assignment:
    """The variant one request shows. ``fixed``: named by the address (a
    campaign link); ``remember``: set the consented cookie."""

    test: RunningTest
    key: str
    fixed: bool = False
    remember: bool = False

    @property
    def variant(self) -> tuple[int, str]:
        return self.test.id, self.key

    @property
    def texts(self) -> dict[str, str]:
        return self.test.texts.get(self.key, {})


def running_test(request: HttpRequest | None, page_id: int) -> RunningTest | None:
    """The page's running test, read once per content stamp (starting and
    stopping a test replace the stamp)."""

    def build() -> RunningTest | None:
        test = (
            Experiment.objects.filter(page_id=page_id, status=ExperimentStatus.RUNNING)
            .prefetch_related("variants")
            .first()
        )
        if test is None:
            return None
        return RunningTest(
            id=test.pk,
            arms=tuple(test.arms()),
            texts={variant.key: variant.texts() for variant in test.variants.all()},
        )

    return cached(request, ("experiment", page_id), build)


def consent_categories(request: HttpRequest) -> frozenset[str]:
    """What the site's ``CONSENT_STATE`` function says the visitor granted;
    nothing when there is none, or when it fails (never a 500)."""
    hook = leadgen_settings.consent_state
    if hook is None:
        return frozenset()
    try:
        granted = hook(request)
        if isinstance(granted, str):
            return frozenset({granted})
        return frozenset(str(category) for category in granted or ())
    except Exception:  # noqa: BLE001 -- the site's code: no consent, no 500
        logger.warning("CONSENT_STATE failed; no consent assumed")
        return frozenset()


def has_analytics_consent(request: HttpRequest) -> bool:
    category = leadgen_settings.experiments["CONSENT_CATEGORY"]
    return category in consent_categories(request)


def cookie_name(test_id: int) -> str:
    return f"{leadgen_settings.experiments['COOKIE_NAME']}_{test_id}"


def draw(arms: Sequence[tuple[str, int]], rng: random.Random | None = None) -> str:
    """One key, drawn with the arms' weights."""
    keys = [key for key, _ in arms]
    return (rng or _system_random).choices(keys, weights=[w for _, w in arms])[0]


def assign(
    request: HttpRequest, test: RunningTest, rng: random.Random | None = None
) -> Assignment:
    """The variant this request shows (see the module's docstring)."""
    keys = {key for key, _ in test.arms}
    if "variant" in request.GET:
        wanted = request.GET.get("variant", "")
        return Assignment(test, wanted if wanted in keys else CONTROL, fixed=True)
    consent = has_analytics_consent(request)
    if consent:
        remembered = request.get_signed_cookie(
            cookie_name(test.id),
            default=None,
            salt=COOKIE_SALT,
            max_age=leadgen_settings.experiments["COOKIE_MAX_AGE"],
        )
        if remembered in keys:
            return Assignment(test, remembered)
    return Assignment(test, draw(test.arms, rng), remember=consent)


def remember(response: HttpResponse, assignment: Assignment) -> None:
    """The consented, signed, first-party cookie, with the site's cookie
    settings (those of its session cookie) and ``SameSite=Lax``."""
    response.set_signed_cookie(
        cookie_name(assignment.test.id),
        assignment.key,
        salt=COOKIE_SALT,
        max_age=leadgen_settings.experiments["COOKIE_MAX_AGE"],
        domain=settings.SESSION_COOKIE_DOMAIN,
        path=settings.SESSION_COOKIE_PATH,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )


def posted_variant(data: Any, page_id: int) -> tuple[int, str] | None:
    """The variant a posted form's token names; None for a token that
    cannot be read (a forged one is attributed to nothing)."""
    try:
        return read_form_token(str(data.get(TOKEN_FIELD, "")), page_id=page_id).variant
    except InvalidToken:
        return None


class ExperimentMixin(_MixedIntoPage):
    """A lead page whose offer texts an editor can A/B test. Put it before
    ``LeadCaptureMixin`` (or a mixin built on it) in the page's bases."""

    #: Pages of this type can be chosen for a test.
    runs_experiments = True
    #: The field a variant's introduction replaces.
    experiment_intro_field = "intro"

    class Meta:
        abstract = True

    def variant_intro(self, text: str) -> Any:
        """The value of ``experiment_intro_field`` for a variant's plain-text
        introduction. Override this for a rich-text field."""
        return text

    def with_variant_texts(self, texts: dict[str, str]) -> Any:
        """A copy of the page showing a variant's texts (the page is untouched)."""
        page = copy.copy(self)
        for name, value in texts.items():
            if name == "intro":
                setattr(page, self.experiment_intro_field, self.variant_intro(value))
            else:
                setattr(page, name, value)
        return page

    def serve(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method == "POST" or getattr(request, "is_preview", False):
            return super().serve(request, *args, **kwargs)
        test = running_test(request, self.pk)
        if test is None:
            return super().serve(request, *args, **kwargs)
        assignment = assign(request, test)
        public = super().may_be_shared(request)  # as without the test
        setattr(request, _ASSIGNMENT, assignment)
        is_shared = self.may_be_shared(request)
        response = super().serve(request, *args, **kwargs)
        if public and not is_shared:
            # Private only for the variant drawn: still a public page, which
            # search engines must keep indexing while the test runs.
            response.headers.pop("X-Robots-Tag", None)
        if not is_shared:
            # A shared page's view is counted where its script fetches the
            # visitor's token, from the variant its page token names.
            count_variant_view(request, *assignment.variant)
        if assignment.remember:
            remember(response, assignment)
        return response

    def may_be_shared(self, request: HttpRequest) -> bool:
        """Never for a variant drawn for this request: a shared cache would
        serve it to others, counted as theirs (docs/ab-testing.md)."""
        assignment = getattr(request, _ASSIGNMENT, None)
        if assignment is not None and not assignment.fixed:
            return False
        return super().may_be_shared(request)

    def get_context(
        self, request: HttpRequest, *args: Any, **kwargs: Any
    ) -> dict[str, Any]:
        context = super().get_context(request, *args, **kwargs)
        assignment = getattr(request, _ASSIGNMENT, None)
        if assignment is not None and assignment.texts:
            context["page"] = context["self"] = self.with_variant_texts(
                assignment.texts
            )
        return context

    def get_form(
        self, data: Any = None, *, request: HttpRequest | None = None, **kwargs: Any
    ):
        """The form, its token naming the variant shown: a new form's from the
        request's assignment, a form shown again's from its posted token
        (it then shows the same variant again)."""
        form = super().get_form(data, request=request, **kwargs)
        if data is None:
            assignment = getattr(request, _ASSIGNMENT, None)
            if assignment is not None:
                form.initial[TOKEN_FIELD] = with_variant(
                    form.initial[TOKEN_FIELD],
                    page_id=self.pk,
                    variant=assignment.variant,
                )
            return form
        variant = posted_variant(data, self.pk)
        if variant is not None:
            form.data[TOKEN_FIELD] = with_variant(
                form.data[TOKEN_FIELD], page_id=self.pk, variant=variant
            )
            test = running_test(request, self.pk)
            if request is not None and test is not None and test.id == variant[0]:
                setattr(request, _ASSIGNMENT, Assignment(test, variant[1]))
        return form


def rich_text_intro(text: str) -> str:
    """A plain-text introduction as rich-text HTML (paragraphs, escaped)."""
    return linebreaks(escape(text))
