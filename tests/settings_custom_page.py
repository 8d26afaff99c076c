"""The suite on a custom base page model: Wagtail 8's ``WAGTAIL_PAGE_MODEL``.

``DJANGO_SETTINGS_MODULE=tests.settings_custom_page pytest`` (``make
test-custom-page``). The site's base page is ``tests.basepage.BasePage``, an
``AbstractPage`` with a field of its own and without the default ``Page``'s
SEO fields; the plugin's pages, and the test app's, are built on it. The
swapped-out ``wagtail.models.Page`` has no table.

The base page's app comes first in ``INSTALLED_APPS``, as Wagtail's own test
settings put theirs: apps whose models subclass the base page (the test app
here) look it up while the models load.
"""

from .settings import *  # noqa: F403
from .settings import INSTALLED_APPS

INSTALLED_APPS = ["tests.basepage", *INSTALLED_APPS]
WAGTAIL_PAGE_MODEL = "basepage.BasePage"
