"""A site's own Content-Security-Policy, as django-csp sets it on Django 5.2:
a nonce in ``request.csp_nonce`` and a policy header that allows it, unless
the view already set one."""

import secrets

SITE_LAYOUT_DIR = "tests/site_layout"


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
