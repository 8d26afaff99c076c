"""A site with its own layout and its own Content-Security-Policy.

``site_layout()`` overrides ``wagtail_leadgen/base.html`` with the install
guide's file, which extends the site's ``base.html`` (``tests/site_layout``,
a layout with an inline analytics script). ``SiteCSPMiddleware`` stands in for
django-csp on Django 5.2: a nonce in ``request.csp_nonce`` and a policy
header that allows it, unless the view already set one.
"""

import copy
import secrets
from pathlib import Path

from django.conf import settings
from django.test import override_settings

ROOT = Path(__file__).resolve().parent.parent
INSTALL_DIR = ROOT / "docs" / "install"


def site_layout(*, middleware=(), context_processors=(), dirs=(), **overrides):
    templates = copy.deepcopy(settings.TEMPLATES)
    templates[0]["DIRS"] = [
        ROOT / "tests" / "site_layout",
        INSTALL_DIR / "templates",
        *dirs,
    ]
    templates[0]["OPTIONS"]["context_processors"] += list(context_processors)
    return override_settings(
        TEMPLATES=templates,
        MIDDLEWARE=[*middleware, *settings.MIDDLEWARE],
        **overrides,
    )


class SiteCSPMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.csp_nonce = secrets.token_urlsafe(16)
        response = self.get_response(request)
        if "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = (
                f"default-src 'self'; script-src 'nonce-{request.csp_nonce}' "
                "'strict-dynamic'; object-src 'none'"
            )
        return response
