"""Done when (issue 11): the built wheel, installed into a fresh `wagtail
start` project with the install guide's files applied verbatim, serves a
landing page in the site's layout, with the site's inline script allowed,
and never serves a gated document as a media file; `check --deploy` speaks
until the guide's production step is applied, then says nothing.

Offline: the wheel is built without isolation and installed without its
dependencies into a new virtualenv that sees this one's packages.
"""

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import django
import pytest

from .helpers import default_page_only
from .site_csp import INSTALL_DIR, ROOT

pytestmark = [
    pytest.mark.wheel_install,
    default_page_only(
        "a stock `wagtail start` project, whatever the suite's base page"
    ),
]

DJANGO_CSP = django.VERSION >= (6, 0)
# The site's own inline script (analytics, a tag manager), with the nonce of
# the site's policy where the site has one (step 9 of the guide, Django 6.1).
SITE_SCRIPT = (
    '<script nonce="{{ csp_nonce }}">window.siteAnalytics = "loaded";</script>'
    if DJANGO_CSP
    else '<script>window.siteAnalytics = "loaded";</script>'
)
PRODUCTION_ENV = {
    "DJANGO_SECRET_KEY": "a-long-random-production-secret-" + "x" * 40,
    "DJANGO_ALLOWED_HOSTS": "leads.example.com",
    "WAGTAILADMIN_BASE_URL": "https://leads.example.com",
}

# Run in the project's shell: the data controller (step 6), a landing page, a
# gated document and a page of the guide's own type, then what a visitor gets.
VISIT = r"""
import json
from django.core.files.base import ContentFile
from django.test import Client
from wagtail.documents import get_document_model
from wagtail.models import Collection, CollectionViewRestriction, Site
from wagtail_leadgen.models import LandingPage, LeadgenSiteSettings, RequestProcessing
from offers.models import WhitePaperPage

site = Site.objects.get(is_default_site=True)
controller = LeadgenSiteSettings.for_site(site)
controller.controller_name = "Example SAS"
controller.controller_address = "1 rue de la Paix, 75002 Paris"
controller.contact_email = "privacy@example.com"
controller.save()
request = RequestProcessing(
    name="Audit", summary="We use your email address to book the audit.",
    purpose_text="<p>We call you back.</p>", recipients="Our sales team",
)
request.save()
request.save_revision().publish()
landing = site.root_page.add_child(instance=LandingPage(
    title="Free audit", slug="free-audit", intro="Book one.", request_processing=request,
))
landing.save_revision().publish()
gated = Collection.get_first_root_node().add_child(name="Gated")
CollectionViewRestriction.objects.create(collection=gated, restriction_type="login")
document = get_document_model().objects.create(
    title="Guide", collection=gated, file=ContentFile(b"%PDF-1.4 secret", name="guide.pdf"),
)
paper = site.root_page.add_child(instance=WhitePaperPage(
    title="White paper", slug="white-paper", teaser="<p>Read <b>this</b>.</p>",
    document=document, request_processing=request,
))
paper.save_revision().publish()

client = Client()
page = client.get(landing.url)
name = document.file.name
print(json.dumps({
    "status": page.status_code,
    "csp": page.get("Content-Security-Policy"),
    "html": page.content.decode(),
    "paper": client.get(paper.url).content.decode(),
    "media": {
        path: client.get(path).status_code
        for path in (
            f"/media/{name}",
            f"/media/images/../{name}",
            f"/media/images/%2e%2e/{name}",
            f"/media/original_images/../{name}",
        )
    },
    "document_view": client.get(document.url).status_code,
}))
"""


def run(*args, cwd, env, check=True):
    return subprocess.run(
        [str(arg) for arg in args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=check,
    )


def build_wheel(workdir: Path, env) -> Path:
    """The wheel of the working tree, built from a copy so that the build
    leaves nothing in the clone."""
    files = run(
        "git",
        "ls-files",
        "-z",
        "--cached",
        "--others",
        "--exclude-standard",
        cwd=ROOT,
        env=env,
    ).stdout.split("\0")
    source = workdir / "src"
    for name in filter(None, files):
        if (ROOT / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    run(
        sys.executable,
        "-m",
        "build",
        "--wheel",
        "--no-isolation",
        "--outdir",
        workdir / "dist",
        source,
        cwd=workdir,
        env=env,
    )
    (wheel,) = (workdir / "dist").glob("wagtail_leadgen-*.whl")
    return wheel


def fresh_venv(workdir: Path, wheel: Path, env) -> Path:
    """A new virtualenv holding the wheel alone, seeing this one's packages
    (the dependencies) through a .pth file, never this clone's sources."""
    venv = workdir / "venv"
    run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=workdir, env=env)
    python = venv / "bin" / "python"
    purelib = run(
        python,
        "-c",
        "import sysconfig; print(sysconfig.get_paths()['purelib'])",
        cwd=workdir,
        env=env,
    ).stdout.strip()
    Path(purelib, "host-packages.pth").write_text(
        sysconfig.get_paths()["purelib"] + "\n"
    )
    run(
        sys.executable,
        "-m",
        "pip",
        "--python",
        python,
        "install",
        "--no-index",
        "--no-deps",
        "--no-warn-conflicts",
        wheel,
        cwd=workdir,
        env=env,
    )
    return python


def apply_guide(project: Path, python: Path, env) -> None:
    """The guide's steps, its files copied as they are."""
    settings = project / "mysite" / "settings"
    base = settings / "base.py"
    snippets = ["settings.py", "tasks.py", *(["csp.py"] if DJANGO_CSP else [])]
    for snippet in snippets:  # steps 2, 7 and 9: at the end of base.py
        base.write_text(base.read_text() + "\n" + (INSTALL_DIR / snippet).read_text())
    shutil.copy(INSTALL_DIR / "urls.py", project / "mysite" / "urls.py")  # step 3
    shutil.copytree(
        INSTALL_DIR / "templates", project / "mysite" / "templates", dirs_exist_ok=True
    )  # step 4
    run(python, "manage.py", "startapp", "offers", cwd=project, env=env)  # step 8
    shutil.copy(INSTALL_DIR / "offers" / "models.py", project / "offers" / "models.py")
    shutil.copytree(
        INSTALL_DIR / "offers" / "templates", project / "offers" / "templates"
    )
    base.write_text(base.read_text() + '\nINSTALLED_APPS += ["offers"]\n')
    # The site's own layout has an inline script of its own.
    layout = project / "mysite" / "templates" / "base.html"
    layout.write_text(layout.read_text().replace("</body>", f"{SITE_SCRIPT}\n</body>"))


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("wheel-install")
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("PYTHONPATH", "DJANGO_SETTINGS_MODULE", "DATABASE_URL")
    }
    python = fresh_venv(workdir, build_wheel(workdir, env), env)
    run(python, "-m", "wagtail.bin.wagtail", "start", "mysite", cwd=workdir, env=env)
    project = workdir / "mysite"
    apply_guide(project, python, env)
    for command in (("makemigrations", "offers"), ("migrate", "--noinput")):
        run(python, "manage.py", *command, "-v0", cwd=project, env=env)
    return python, project, env


@pytest.fixture(scope="module")
def visit(project):
    python, path, env = project
    installed = run(
        python,
        "-c",
        "import wagtail_leadgen; print(wagtail_leadgen.__file__)",
        cwd=path,
        env=env,
    ).stdout
    assert str(ROOT) not in installed  # the wheel's copy, not this clone's
    output = run(python, "manage.py", "shell", "-v0", "-c", VISIT, cwd=path, env=env)
    return json.loads(output.stdout.strip().splitlines()[-1])


def test_the_landing_page_renders_in_the_sites_layout(visit):
    html = visit["html"]
    assert visit["status"] == 200
    assert "/static/css/mysite.css" in html  # the layout `wagtail start` made
    assert "/static/wagtail_leadgen/leadgen.css" in html
    assert 'name="email"' in html and "Example SAS" in html


def test_the_sites_inline_script_is_allowed(visit):
    html = visit["html"]
    if DJANGO_CSP:  # the site's policy (step 9) and the nonce it gave the script
        nonce = visit["csp"].split("'nonce-", 1)[1].split("'", 1)[0]
        assert f'<script nonce="{nonce}">window.siteAnalytics' in html
    else:  # no policy of the site's: none of the plugin's either
        assert visit["csp"] is None
        assert "<script>window.siteAnalytics" in html


def test_the_honeypot_is_hidden_from_people(visit):
    html = visit["html"]
    honeypot = html[
        html.index('class="leadgen-hp"') - 5 : html.index('name="leadgen_hp"')
    ]
    assert 'aria-hidden="true"' in honeypot
    assert " hidden" in honeypot


def test_the_guides_page_type_renders_its_rich_text(visit):
    assert "<p>Read <b>this</b>.</p>" in visit["paper"]
    assert 'class="white-paper"' in visit["paper"]


def test_gated_documents_are_never_served_as_media(visit):
    assert set(visit["media"].values()) <= {400, 404}, visit["media"]
    assert visit["document_view"] != 200  # Wagtail's view keeps the collection private


def test_check_deploy_speaks_until_the_production_step_then_says_nothing(project):
    python, path, env = project
    before = run(
        python,
        "manage.py",
        "check",
        "--deploy",
        "--database",
        "default",
        cwd=path,
        env=env,
        check=False,
    )
    said = before.stderr + before.stdout
    assert "security.W018" in said  # DEBUG on, and more
    for plugin_warning in ("W020", "W021", "W023"):
        assert f"wagtail_leadgen.{plugin_warning}" in said
    production = path / "mysite" / "settings" / "production.py"
    production.write_text(
        production.read_text() + "\n" + (INSTALL_DIR / "production.py").read_text()
    )
    after = run(
        python,
        "manage.py",
        "check",
        "--deploy",
        "--database",
        "default",
        "--fail-level",
        "WARNING",
        cwd=path,
        check=False,
        env={
            **env,
            **PRODUCTION_ENV,
            "DJANGO_SETTINGS_MODULE": "mysite.settings.production",
        },
    )
    assert after.returncode == 0, after.stderr
    assert "System check identified no issues" in after.stdout
