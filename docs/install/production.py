# wagtail-leadgen in production: add at the end of mysite/settings/production.py.
import os

SECRET_KEY = os.environ["DJANGO_SECRET_KEY"]
ALLOWED_HOSTS = os.environ["DJANGO_ALLOWED_HOSTS"].split(",")
WAGTAILADMIN_BASE_URL = os.environ["WAGTAILADMIN_BASE_URL"]

# Links in emails to visitors start from the site's public root.
WAGTAIL_LEADGEN["SITE_URL"] = WAGTAILADMIN_BASE_URL
# The rate limit reads the client address behind this many reverse proxies
# (the one that terminates HTTPS below); 0 when nothing stands in front.
WAGTAIL_LEADGEN["TRUSTED_PROXY_COUNT"] = int(
    os.environ.get("DJANGO_TRUSTED_PROXY_COUNT", "1")
)
# The JSON API's interactive docs and OpenAPI document stay off (W040).
WAGTAIL_LEADGEN["API"] = {"DOCS": False}

# The rate limit counts in the default cache: it must be shared by every
# process (run `python manage.py createcachetable` once), or Redis/Memcached.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "django_cache",
    }
}

# HTTPS only, behind a proxy that sets X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = True
SECURE_HSTS_SECONDS = 60 * 60 * 24 * 365
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
