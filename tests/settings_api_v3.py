"""The test settings of a site that installs Wagtail 8's v3 API (a preview)."""

from .settings import *  # noqa: F403

INSTALLED_APPS = [*INSTALLED_APPS, "wagtail.api.v3"]  # noqa: F405
ROOT_URLCONF = "tests.urls_api_v3"
