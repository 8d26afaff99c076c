"""The defaults of every ``WAGTAIL_LEADGEN`` option, in one place.

Data only: ``conf.py`` reads, merges and validates them (and re-exports
``DEFAULTS`` and ``SETTINGS_NAME``); docs/reference.md documents them.
"""

from __future__ import annotations

from typing import Any

SETTINGS_NAME = "WAGTAIL_LEADGEN"

#: The links of HEADLESS_LINKS a front end can take over.
HEADLESS_LINK_KEYS = ("confirm", "preferences", "unsubscribe", "my_data_verify")

#: The ``CALLBACK`` section's defaults (checked by ``business_hours.merge_callback``).
CALLBACK_DEFAULTS: dict[str, Any] = {
    # Where the alert goes: an address of the sales team (None: no email) and
    # CRM destination aliases that receive a ``callback.requested`` event
    # (webhook destinations), both sent ahead of every other delivery.
    "SALES_EMAIL": None,
    "ALERT_DESTINATIONS": (),
    # Target time to the first call, in minutes, from the request (or from
    # the next opening when it comes outside business hours).
    "SLA_MINUTES": 5,
    # Business hours. HOURS None: not configured, the clock always runs (an
    # editor hint then flags every call-back page). Otherwise ("09:00",
    # "18:00") on DAYS (Monday = 0), in TIME_ZONE, except the HOLIDAYS
    # ("YYYY-MM-DD" dates, local).
    "HOURS": None,
    "DAYS": (0, 1, 2, 3, 4),
    "TIME_ZONE": "Europe/Paris",
    "HOLIDAYS": (),
    # Phone numbers: the countries accepted (ISO 3166 region codes; the first
    # also reads numbers typed without +country code), and the number types
    # refused (phonenumbers' PhoneNumberType names).
    "COUNTRY_CODES": ("FR",),
    "REFUSED_NUMBER_TYPES": (
        "PREMIUM_RATE",
        "SHARED_COST",
        "UAN",
        "PAGER",
        "PERSONAL_NUMBER",
        "VOICEMAIL",
    ),
    # A visitor may pick a window this long, starting at most this many days ahead.
    "SLOT_MINUTES": 60,
    "MAX_DAYS_AHEAD": 14,
}

DEFAULTS: dict[str, Any] = {
    # Gated downloads: how long a download link works, and how many times.
    "DOWNLOAD_LINK_MAX_AGE": 24 * 60 * 60,
    "DOWNLOAD_LINK_MAX_USES": 5,
    # Anti-spam: a form posted faster than this (seconds) is quarantined as spam;
    # a form older than FORM_MAX_AGE is shown again with a fresh token.
    "FORM_MIN_FILL_SECONDS": 2,
    "FORM_MAX_AGE": 24 * 60 * 60,
    # Per-IP rate limit on every intake path: at most N submissions per window.
    "RATE_LIMIT_SUBMISSIONS": 20,
    "RATE_LIMIT_WINDOW": 10 * 60,
    # Number of reverse proxies in front of the site whose X-Forwarded-For is
    # trusted. 0 (the default) trusts none and uses REMOTE_ADDR.
    "TRUSTED_PROXY_COUNT": 0,
    # Upper bounds on what a visitor may send.
    "MAX_TEXT_LENGTH": 200,
    "MAX_QUESTION_LENGTH": 2000,
    # Retention a new consent purpose starts with, in months (CNIL standard for
    # prospects: at most 3 years after the last contact from the person).
    "DEFAULT_RETENTION_MONTHS": 36,
    # Retention a new request processing starts with, in months: data kept
    # only to answer a request (an e-book with no marketing consent) goes
    # sooner than a prospect's.
    "DEFAULT_REQUEST_RETENTION_MONTHS": 12,
    # -- Retention (R16), see docs/retention.md ----------------------------------
    # Days before a consent's retention period ends that the person is asked,
    # once, by email whether to keep their data.
    "RENEWAL_NOTICE_DAYS": 30,
    # Days quarantined spam is kept for review before leadgen_purge deletes it.
    "SPAM_RETENTION_DAYS": 30,
    # Rows leadgen_purge handles per transaction: an interrupted run leaves
    # whole batches done and the rest untouched.
    "PURGE_BATCH_SIZE": 500,
    # -- Consent after capture (R12, R13), see docs/consent.md -----------------
    # The public root of the site for links in emails ("https://example.com").
    # None: the root URL of the page's Wagtail Site. Never the request's Host.
    "SITE_URL": None,
    # Sender of the emails to visitors. None: DEFAULT_FROM_EMAIL.
    "EMAIL_FROM": None,
    # Address of the mailto: part of List-Unsubscribe. None: the controller's
    # contact email from the site settings (no mailto: when neither is set).
    "UNSUBSCRIBE_MAILTO": None,
    # How long a double opt-in link works, in seconds.
    "CONFIRMATION_MAX_AGE": 24 * 60 * 60,
    # At most this many confirmation emails per address in each window.
    "CONFIRMATION_EMAILS_PER_ADDRESS": 3,
    "CONFIRMATION_EMAILS_WINDOW": 24 * 60 * 60,
    # The "my data" page (services.my_data): how long the link emailed to the
    # person works and how long, once verified, their session lasts (seconds).
    "MY_DATA_LINK_MAX_AGE": 30 * 60,
    "MY_DATA_SESSION_AGE": 15 * 60,
    # Link requests allowed per address and per client IP in each window;
    # more get the same answer and no email.
    "MY_DATA_REQUESTS_PER_ADDRESS": 3,
    "MY_DATA_REQUESTS_PER_IP": 10,
    "MY_DATA_REQUESTS_WINDOW": 60 * 60,
    # Links in the plugin's emails that open a decoupled front end's pages
    # instead of the plugin's own (docs/headless-rights.md): a dict of
    # HEADLESS_LINK_KEYS -> absolute https URL template holding "{token}"
    # (http only on localhost), e.g. {"confirm":
    # "https://app.example.com/confirm?token={token}"}. None, or a key left
    # out: the plugin's page. List-Unsubscribe always names the plugin's own
    # one-click address.
    "HEADLESS_LINKS": None,
    # The supervisory authority named in the notice (the right to complain):
    # the one of the controller's main establishment. Keys left out keep these.
    "SUPERVISORY_AUTHORITY": {"NAME": "CNIL", "URL": "https://www.cnil.fr"},
    # CRM destinations by alias, like Django's CACHES: {"alias": {"BACKEND":
    # "dotted.path", "OPTIONS": {...}}}. Default: keep leads in the database only.
    "CRM_BACKENDS": {
        "database": {"BACKEND": "wagtail_leadgen.crm.database.DatabaseBackend"},
    },
    # Delivery retries: capped exponential backoff with jitter. With these
    # defaults a lead is retried for about three days before it is marked failed.
    "DELIVERY_MAX_ATTEMPTS": 20,
    "DELIVERY_BACKOFF_BASE": 60,
    "DELIVERY_BACKOFF_CAP": 6 * 60 * 60,
    # How long a worker owns a claimed delivery; a crashed worker's claim
    # expires after this and another worker takes the delivery over.
    "DELIVERY_LEASE_SECONDS": 5 * 60,
    # The django-tasks backend alias deliveries are enqueued on.
    "TASK_BACKEND": "default",
    # Content-Security-Policy sent with the plugin's public pages, unless the
    # response already has one (e.g. from the site's own middleware). None: off.
    "CONTENT_SECURITY_POLICY": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; "
        "script-src 'self'; form-action 'self'; frame-ancestors 'self'; "
        "base-uri 'self'; object-src 'none'"
    ),
    # The plugin's own layout puts leadgen.css inline in the page head (no
    # request that blocks the first paint), allowed by its hash in the policy
    # above. False: a <link> to the file, for a site whose own policy, sent
    # with the plugin's layout, allows no inline style.
    "INLINE_STYLESHEET": True,
    # The plugin's own layout loads the form's scripts (form.js, pow.js) after
    # the first paint, through a few bytes of inline script allowed by its hash
    # in the policy above: fetched while the page renders, they would delay
    # its largest paint. False: deferred <script> elements, for a site whose
    # own policy, sent with the plugin's layout, allows no inline script.
    "LOAD_SCRIPTS_AFTER_PAINT": True,
    # -- Shared caches and CDNs (issue 13), see docs/caching.md -------------------
    # Seconds a shared cache (a CDN, a caching proxy) may keep an anonymous
    # visitor's lead page: sent as Cache-Control "public, max-age=0,
    # s-maxage=N". The page then carries no cookie and no per-visitor data;
    # the form posts to a CSRF-exempt endpoint guarded by an Origin check.
    # 0: pages stay private (a CSRF cookie, a token per request).
    "SHARED_CACHE_MAX_AGE": 300,
    # Origins ("https://www.example.com") besides the site's own whose pages
    # may post lead forms (e.g. the site behind a TLS proxy that Django sees
    # as http). A form posted from any other origin is refused (403).
    "FORM_ALLOWED_ORIGINS": (),
    # -- Content hints (R5, R6), see docs/content-hints.md ----------------------
    # Targets per page type. Sections: "default" (every page), the profiles
    # "content" (a site's own pages, e.g. articles carrying CTAs), "landing",
    # "ebook", "thank_you", and any model label ("blog.articlepage"). A site's
    # dict is merged over these section by section, target by target, so it
    # only names what it changes; an unknown section or target is an error.
    "CONTENT_TARGETS": {
        "default": {
            # Readability is not scored under this many words (too noisy).
            "MIN_WORDS_FOR_READABILITY": 100,
            # Score above READABILITY_GOOD: easy; from READABILITY_FAIR: fair;
            # below: hard (Flesch-family scale, 0-100).
            "READABILITY_GOOD": 60,
            "READABILITY_FAIR": 50,
            # A sentence over LONG_SENTENCE_WORDS words is long; at most this
            # share of the sentences should be.
            "LONG_SENTENCE_WORDS": 20,
            "LONG_SENTENCES_MAX_SHARE": 0.25,
            "PARAGRAPH_MAX_WORDS": 150,
            # At least one subheading every N words.
            "SUBHEADING_EVERY_WORDS": 300,
            # Length: below WORDS_GOOD warns, from WORDS_EXCELLENT is excellent,
            # above WORDS_MAX is too long for the page type. None: no target.
            "WORDS_GOOD": None,
            "WORDS_EXCELLENT": None,
            "WORDS_MAX": None,
            # Form length, email included: up to FORM_FIELDS_GOOD is good, from
            # FORM_FIELDS_POOR is poor, in between warns.
            "FORM_FIELDS_GOOD": 4,
            "FORM_FIELDS_POOR": 7,
            # The offer is described in the first content field, above the form.
            "OFFER_ABOVE_FORM": False,
            "META_DESCRIPTION": True,
        },
        # The source's figures for content that ranks: ~1,000 words as a floor,
        # 2,500+ ranking best.
        "content": {"WORDS_GOOD": 1000, "WORDS_EXCELLENT": 2500},
        "landing": {"WORDS_MAX": 500, "OFFER_ABOVE_FORM": True},
        "ebook": {"WORDS_MAX": 300, "OFFER_ABOVE_FORM": True},
        "thank_you": {"WORDS_MAX": 150, "META_DESCRIPTION": False},
    },
    # Silent reading speed by language (words per minute) for reading times:
    # Brysbaert (2019), the table Wagtail's own Checks panel uses. Merged over
    # by a site's dict; other languages use "en".
    "READING_WORDS_PER_MINUTE": {
        "ar": 181,
        "de": 260,
        "en": 238,
        "es": 278,
        "fi": 195,
        "fr": 214,
        "he": 224,
        "it": 285,
        "ko": 226,
        "nl": 228,
        "sv": 218,
        "zh": 260,
    },
    # KPI dashboard: count views of lead pages per day (no cookie, no IP).
    # Views are counted in the default cache and written to the database in
    # batches (a task at most once a minute, leadgen_flush_counters), see
    # docs/caching.md.
    "COUNT_PAGE_VIEWS": True,
    # A request whose User-Agent contains one of these words (any case) is a
    # bot and is not counted; an empty User-Agent is never counted either.
    "EXCLUDED_USER_AGENTS": (
        "bot",
        "crawl",
        "spider",
        "slurp",
        "preview",
        "headless",
        "curl",
        "wget",
        "python-requests",
        "python-urllib",
        "httpx",
        "aiohttp",
        "go-http-client",
        "okhttp",
        "java/",
        "libwww",
        "scrapy",
        "facebookexternalhit",
        "lighthouse",
        "pingdom",
        "uptime",
    ),
    # The report's default date range (days, today included) and longest range.
    "DASHBOARD_DEFAULT_DAYS": 30,
    "DASHBOARD_MAX_DAYS": 366,
    # Lead maturity (hot / warm / cold), see docs/leads-inbox.md. A lead scores
    # points for each signal; the score, compared with HOT_AT and WARM_AT, gives
    # its level. Keys left out of a site's MATURITY dict keep these defaults.
    "MATURITY": {
        # Last contact within N days -> points; the first matching step counts.
        "RECENCY_POINTS": ((7, 3), (30, 2), (90, 1)),
        # At least N submissions -> points; the first matching step counts.
        "SUBMISSIONS_POINTS": ((3, 2), (2, 1)),
        # At least one gated document actually downloaded.
        "DOWNLOAD_POINTS": 1,
        # A consent in force: granted, and confirmed where it needs double opt-in.
        "OPT_IN_POINTS": 1,
        # A phone number left in a form: the person asks to be called back.
        "CALL_BACK_POINTS": 3,
        # Score thresholds; below WARM_AT a lead is cold.
        "HOT_AT": 6,
        "WARM_AT": 3,
        # No contact for longer than this: cold, whatever the other signals.
        "COLD_AFTER_DAYS": 180,
    },
    # Dotted path to a function ``classify(lead, signals) -> "hot" | "warm" |
    # "cold"`` used instead of the scoring above. None: the built-in scoring.
    "MATURITY_CLASSIFIER": None,
    # Lead scoring is profiling (GDPR Art. 4(4)): the information notice says
    # so while it is on. False: no level is computed (at capture or by
    # leadgen_classify) and the notice says nothing about it.
    "LEAD_SCORING": True,
    # Optional self-hosted proof of work (ALTCHA's format, solved by the
    # plugin's own script) for sites under attack; see docs/reference.md.
    # None: off. A dict turns it on; keys left out keep these defaults:
    # {"MAX_NUMBER": 100_000, "NO_JS_MIN_FILL_SECONDS": 8}.
    "PROOF_OF_WORK": None,
    # The JSON API (wagtail_leadgen.api): interactive docs and the OpenAPI
    # document, and how long an answered Idempotency-Key is remembered
    # (seconds). Keys left out keep these defaults; see docs/reference.md.
    "API": {"DOCS": True, "IDEMPOTENCY_KEY_MAX_AGE": 24 * 60 * 60},
    # Progressive profiling (docs/progressive-profiling.md): how a known visitor
    # is recognised. Keys left out of a site's dict keep these defaults.
    "PROFILING": {
        # How long a profiling link from the plugin's own emails works (seconds).
        "LINK_MAX_AGE": 30 * 24 * 60 * 60,
        # The query parameter that carries it on an offer page's address.
        "LINK_PARAMETER": "known",
        # How long the "remember me on this device" cookie lives (seconds); the
        # CNIL recommends at most 13 months for such cookies.
        "REMEMBER_MAX_AGE": 180 * 24 * 60 * 60,
        # The cookie's name. It is set only when the visitor ticked a consent
        # purpose marked "remembers this device", and read only while that
        # consent is in force.
        "COOKIE_NAME": "leadgen_known",
    },
    # The site's own consent state (its consent-management platform's
    # cookie): dotted path to ``f(request) -> set of granted categories``
    # (e.g. {"analytics"}). None: nothing is granted, no consent is assumed.
    "CONSENT_STATE": None,
    # A/B tests of lead pages (docs/ab-testing.md). Keys left out keep these.
    "EXPERIMENTS": {
        # The category of CONSENT_STATE that allows a sticky assignment cookie.
        "CONSENT_CATEGORY": "analytics",
        # The cookie's name (the test's id is appended) and lifetime in
        # seconds (the CNIL caps audience-measurement cookies at 13 months).
        "COOKIE_NAME": "leadgen_ab",
        "COOKIE_MAX_AGE": 30 * 24 * 60 * 60,
        # No verdict before every arm (control and variants) has this many
        # views: a fixed sample, so looking at the results often does not
        # inflate false positives.
        "MIN_VIEWS_PER_VARIANT": 1000,
        # The hint about a test still without a verdict after this many days.
        "STALE_AFTER_DAYS": 14,
    },
    # Call-back requests (docs/call-back.md): keys left out keep the
    # defaults of CALLBACK_DEFAULTS above.
    "CALLBACK": CALLBACK_DEFAULTS,
}

PROOF_OF_WORK_DEFAULTS: dict[str, Any] = {
    # The challenge's difficulty: a browser tries up to this many hashes
    # (about 0.1-1 s on a phone for the default).
    "MAX_NUMBER": 100_000,
    # A form posted without a solution (no JavaScript) is accepted only if it
    # was open at least this long; faster ones are quarantined as spam.
    "NO_JS_MIN_FILL_SECONDS": 8,
}
