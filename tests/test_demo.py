"""The demo site a newcomer starts with `make demo`: seeds once, hardens for production."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from .helpers import default_page_only

# The demo runs its own settings (Wagtail's default Page) in a subprocess,
# whatever the suite's settings: the custom base page run would repeat it.
pytestmark = default_page_only(
    "the demo project runs its own settings, with Wagtail's default Page"
)

ROOT = Path(__file__).resolve().parent.parent
MANAGE = ROOT / "example_site" / "manage.py"
COUNT_ROWS = (
    "from wagtail.models import Page; from wagtail_leadgen.models import *; "
    "print(Page.objects.count(), ConsentPurpose.objects.count(), "
    "RequestProcessing.objects.count(), "
    "CallToAction.objects.count(), EbookPage.objects.get().document.collection"
    ".get_view_restrictions().count())"
)


def manage(*args, env):
    """Run the demo's manage.py with its own settings, not the test suite's,
    on this checkout's package (not another copy the environment installed),
    on the database ``env`` names (never the suite's DATABASE_URL)."""
    child_env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL")
    }
    path = os.pathsep.join(filter(None, [str(ROOT), child_env.get("PYTHONPATH")]))
    result = subprocess.run(
        [sys.executable, str(MANAGE), *args],
        capture_output=True,
        text=True,
        env={**child_env, "PYTHONPATH": path, **env},
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture
def demo_db(tmp_path):
    return {"DEMO_DB_PATH": str(tmp_path / "demo.sqlite3")}


def test_seeding_twice_creates_the_demo_once_and_prints_the_login(demo_db):
    manage("migrate", "--noinput", "-v0", env=demo_db)
    first = manage("seed_demo", env=demo_db)
    counts = manage("shell", "-v0", "-c", COUNT_ROWS, env=demo_db)
    manage("seed_demo", env=demo_db)
    assert manage("shell", "-v0", "-c", COUNT_ROWS, env=demo_db) == counts
    pages, purposes, requests, ctas, restrictions = counts.split()
    assert int(pages) >= 7 and purposes == "2" and requests == "3"
    assert ctas == "4" and restrictions == "1"
    assert "user 'admin', password 'changeme'" in first
    manage("check", "--database", "default", "--fail-level", "WARNING", env=demo_db)


CALL_ME_BACK = """
import tempfile
from pathlib import Path
from django.conf import settings
from django.test import Client, override_settings
from django_tasks_db.models import DBTaskResult
from wagtail_leadgen.models import CallbackPage, CallbackRequest
from wagtail_leadgen.services.callbacks import sla_badge
from wagtail_leadgen.tasks import send_callback_email
from tests.helpers import form_data

mail_dir = tempfile.mkdtemp()
options = {**settings.WAGTAIL_LEADGEN, "FORM_MIN_FILL_SECONDS": 0}
with override_settings(
    WAGTAIL_LEADGEN=options,
    EMAIL_FILE_PATH=mail_dir,
    MAILERS={"default": {"BACKEND": "django.core.mail.backends.filebased.EmailBackend",
                         "OPTIONS": {"file_path": mail_dir}}},
):
    client = Client(HTTP_HOST=settings.WAGTAILADMIN_BASE_URL.split("//")[1].rstrip("/"))
    page = CallbackPage.objects.get(slug="call-me-back")
    data = form_data(client, page, email="visitor@example.com", phone="06 12 34 56 78")
    response = client.post(page.url, data)
    assert response.status_code == 200, response.status_code
    callback = CallbackRequest.objects.get(phone="+33612345678")
    alert = DBTaskResult.objects.ready().first()
    assert alert.task_path.endswith("send_callback_email"), alert.task_path
    send_callback_email.call(callback.pk)
    mails = "".join(p.read_text() for p in Path(mail_dir).iterdir())
    assert "sales@example.com" in mails and "+33612345678" in mails
    print("alerted", sla_badge(callback).state)
"""


def test_the_demo_s_call_me_back_page_alerts_sales_through_demo_mail(demo_db):
    manage("migrate", "--noinput", "-v0", env=demo_db)
    manage("seed_demo", env=demo_db)
    out = manage("shell", "-v0", "-c", CALL_ME_BACK, env=demo_db)
    assert "alerted" in out


def test_the_production_settings_pass_the_deployment_checks(demo_db):
    env = {
        **demo_db,
        "DJANGO_SETTINGS_MODULE": "example_site.production",
        "DJANGO_SECRET_KEY": "x" * 20 + "-a-long-random-production-secret-" + "y" * 20,
        "DJANGO_ALLOWED_HOSTS": "leads.example.com",
        "WAGTAILADMIN_BASE_URL": "https://leads.example.com",
    }
    manage("check", "--deploy", "--fail-level", "WARNING", env=env)


WALK_OUT_OF_THE_IMAGES = (
    "/media/documents/guide.pdf",
    "/media/images/../documents/guide.pdf",
    "/media/images/%2e%2e/documents/guide.pdf",
    "/media/images/%2E%2E/documents/guide.pdf",
    "/media/original_images/../documents/guide.pdf",
    "/media/images/..%2fdocuments/guide.pdf",
    "/media/images/../../example_site/settings.py",
)


def test_the_demo_s_media_route_serves_images_and_cannot_be_walked_out_of(
    demo_db, tmp_path
):
    media = tmp_path / "media"
    for folder, name in [("images", "cover.png"), ("documents", "guide.pdf")]:
        (media / folder).mkdir(parents=True)
        (media / folder / name).write_bytes(
            b"secret" if folder == "documents" else b"png"
        )
    statuses = (
        "from django.test import Client; client = Client(); "
        f"print(*(client.get(path).status_code for path in {WALK_OUT_OF_THE_IMAGES!r}))"
        "; print(client.get('/media/images/cover.png').status_code)"
    )
    env = {
        **demo_db,
        "DEMO_MEDIA_ROOT": str(media),
        "DJANGO_DEBUG": "1",
        "DJANGO_ALLOWED_HOSTS": "testserver",
    }
    manage("migrate", "--noinput", "-v0", env=env)
    refused, image = manage("shell", "-v0", "-c", statuses, env=env).splitlines()
    assert set(refused.split()) == {"404"}
    assert image == "200"


def test_the_seeded_demo_opens_its_apis_to_the_decoupled_front_end(demo_db):
    # `make demo PORT=8010` serves the front end on 8011: that origin may call
    # the APIs, and the page API lists the seeded landing page to it.
    env = {
        **demo_db,
        "WAGTAILADMIN_BASE_URL": "http://127.0.0.1:8010",
        "DJANGO_ALLOWED_HOSTS": "testserver",
    }
    manage("migrate", "--noinput", "-v0", env=env)
    manage("seed_demo", env=env)
    probe = (
        "from django.test import Client; client = Client(); "
        "front = {'Origin': 'http://127.0.0.1:8011'}; "
        "listing = client.get('/api/v2/pages/?type=wagtail_leadgen.LandingPage', "
        "headers=front); "
        "print(listing.status_code, listing.headers.get('Access-Control-Allow-Origin'), "
        "listing.json()['meta']['total_count'], "
        "client.get('/api/v2/documents/').status_code)"
    )
    output = manage("shell", "-v0", "-c", probe, env=env).split()
    assert output == ["200", "http://127.0.0.1:8011", "1", "404"]


def test_the_demo_serves_a_favicon_so_browsers_log_no_error(demo_db):
    fetch = (
        "from django.test import Client; "
        "response = Client().get('/favicon.ico', follow=True); "
        "print(response.status_code, response.headers['Content-Type'])"
    )
    env = {**demo_db, "DJANGO_DEBUG": "1", "DJANGO_ALLOWED_HOSTS": "testserver"}
    status, content_type = manage("shell", "-v0", "-c", fetch, env=env).split()
    assert (status, content_type.split("/")[0]) == ("200", "image")


# The demo's journey for progressive profiling: someone asks for an audit with
# the newsletter ticked, and opens the link of the confirmation email.
PROFILING_JOURNEY = """
import re
from django.test import Client
from wagtail_leadgen import mailer
from wagtail_leadgen.models import ConfirmationRequest, LandingPage
from wagtail_leadgen.services.capture import SubmissionContext, capture_lead

page = LandingPage.objects.get(slug="free-audit")
result = capture_lead(
    context=SubmissionContext(page=page, language="en"),
    email="visitor@example.com",
    answers={"first_name": "Ann", "company": "Acme", "phone": "+33 1 23 45 67 89"},
    decisions={purpose: True for purpose in page.get_purposes()},
    shown_versions={},
)
request = ConfirmationRequest.objects.get(submission=result.submission)
records = mailer.pending_records(request)
body = mailer.confirmation_message(request, records, "x" * 43).body
link = re.search(r"https?://\\S+[?]known=\\S+", body).group(0)
path = re.sub(r"^https?://[^/]+", "", link)
names = ("email", "first_name", "company", "phone", "job_title", "question")

def asked(response):
    markup = response.content.decode()
    return [n for n in re.findall(r'<(?:input|textarea)[^>]*name="([^"]+)"', markup) if n in names]

client = Client()
print(",".join(asked(client.get(page.url))), ",".join(asked(client.get(path))))
"""


def test_a_visitor_from_the_confirmation_email_sees_a_shorter_form(demo_db):
    env = {**demo_db, "DJANGO_ALLOWED_HOSTS": "testserver,127.0.0.1"}
    manage("migrate", "--noinput", "-v0", env=env)
    manage("seed_demo", env=env)
    stranger, known = manage("shell", "-v0", "-c", PROFILING_JOURNEY, env=env).split()
    assert stranger.split(",") == ["email", "first_name", "company", "phone"]
    assert known.split(",") == ["job_title"]


AB_TEST_RESULTS = (
    "from django.test import Client; "
    "from django.contrib.auth import get_user_model; "
    "from wagtail_leadgen.models import LandingPage; "
    "client = Client(HTTP_HOST='localhost'); "
    "client.force_login(get_user_model().objects.get(username='admin')); "
    "report = client.get('/admin/leadgen/kpis/').content.decode(); "
    "page = LandingPage.objects.get(slug='free-audit'); "
    "shown = client.get(page.url + '?variant=five-minutes').content.decode(); "
    "print('five minutes' in shown, "
    "'Headline: call back in five minutes' in report, "
    "'Page as published' in report, 'Not enough data yet' in report)"
)


def test_the_demo_landing_page_runs_an_ab_test_shown_in_the_dashboard(demo_db):
    manage("migrate", "--noinput", "-v0", env=demo_db)
    manage("seed_demo", env=demo_db)
    shown = manage("shell", "-v0", "-c", AB_TEST_RESULTS, env=demo_db).split()
    assert shown == ["True", "True", "True", "True"]
