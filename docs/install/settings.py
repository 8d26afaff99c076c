# wagtail-leadgen: add these lines at the end of mysite/settings/base.py.

INSTALLED_APPS += [
    "wagtail_leadgen",
    # The data controller's details are a per-site setting.
    "wagtail.contrib.settings",
]

# A session cookie holding a control character would turn every page into a
# server error on PostgreSQL: drop it before the session middleware reads it.
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.contrib.sessions.middleware.SessionMiddleware"),
    "wagtail_leadgen.middleware.HostileCookieMiddleware",
)

# Gated documents only ever leave through Wagtail's document view, which
# checks their collection's privacy (never "direct" or "redirect").
WAGTAILDOCS_SERVE_METHOD = "serve_view"

WAGTAIL_LEADGEN = {
    # The lead pages use your site's layout (step 4), so your site's own
    # Content-Security-Policy governs them (step 9), not the plugin's.
    "CONTENT_SECURITY_POLICY": None,
}
