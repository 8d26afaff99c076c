"""The install guide cannot drift from the code: every file it tells a site
to copy (``docs/install/``) is quoted verbatim by the guide and exercised
here, and the settings reference names exactly the keys ``DEFAULTS`` has."""

import ast
import importlib.util
import re
import sys
import types

import django
import pytest
from django.core.checks import run_checks
from django.test import override_settings
from django.urls import Resolver404, resolve, reverse

from wagtail_leadgen.conf import leadgen_settings
from wagtail_leadgen.conf_defaults import DEFAULTS, PROOF_OF_WORK_DEFAULTS
from wagtail_leadgen.models import LandingPage

from .factories import make_landing_page
from .site_csp import INSTALL_DIR, ROOT, site_layout

GUIDE = (ROOT / "docs" / "getting-started.md").read_text()
REFERENCE = (ROOT / "docs" / "reference.md").read_text()
INSTALL_FILES = sorted(
    path
    for path in INSTALL_DIR.rglob("*")
    if path.is_file() and "__pycache__" not in path.parts
)

# What `wagtail start` writes into mysite/settings/base.py, as far as the
# guide's snippets touch it.
STOCK_INSTALLED_APPS = [
    "home",
    "search",
    "wagtail.contrib.forms",
    "wagtail.contrib.redirects",
    "wagtail.embeds",
    "wagtail.sites",
    "wagtail.users",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail",
    "modelcluster",
    "taggit",
    "django_filters",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
]
STOCK_MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "wagtail.contrib.redirects.middleware.RedirectMiddleware",
]


def apply_snippets(*names: str, **settings) -> dict:
    """Run the guide's settings snippets over a settings module's names, as
    adding them at the end of mysite/settings/*.py does."""
    namespace = {
        "INSTALLED_APPS": list(STOCK_INSTALLED_APPS),
        "MIDDLEWARE": list(STOCK_MIDDLEWARE),
        **settings,
    }
    for name in names:
        path = INSTALL_DIR / name
        exec(compile(path.read_text(), str(path), "exec"), namespace)  # noqa: S102
    return namespace


def plugin_messages(*, deploy=False, **settings):
    """The plugin's check messages under these settings (``check --deploy``'s
    too with ``deploy``: the production snippet's business)."""
    with override_settings(**settings):
        leadgen_settings.reload()
        messages = run_checks(include_deployment_checks=deploy)
    leadgen_settings.reload()
    return [m for m in messages if m.id and m.id.startswith("wagtail_leadgen.")]


# -- The guide quotes its files --------------------------------------------------


@pytest.mark.parametrize(
    "path", INSTALL_FILES, ids=lambda p: str(p.relative_to(INSTALL_DIR))
)
def test_the_guide_quotes_each_install_file_whole(path):
    relative = path.relative_to(ROOT / "docs")
    assert (
        f"```{'django' if path.suffix == '.html' else 'python'}\n{path.read_text()}```"
        in GUIDE
    )
    assert f"]({relative})" in GUIDE  # and links to the file itself


def test_the_readme_points_at_the_one_guide_instead_of_a_second():
    readme = (ROOT / "README.md").read_text()
    assert "docs/getting-started.md)" in readme  # relative or absolute
    assert 'include("wagtail_leadgen.urls")' not in readme
    assert "HostileCookieMiddleware" not in readme


# -- Step 2: settings, step 7: the task queue -------------------------------------


def test_the_settings_snippet_installs_the_plugin_and_its_cookie_guard():
    settings = apply_snippets("settings.py")
    assert {"wagtail_leadgen", "wagtail.contrib.settings"} <= set(
        settings["INSTALLED_APPS"]
    )
    middleware = settings["MIDDLEWARE"]
    guard = middleware.index("wagtail_leadgen.middleware.HostileCookieMiddleware")
    assert (
        middleware[guard + 1] == "django.contrib.sessions.middleware.SessionMiddleware"
    )
    assert set(settings["WAGTAIL_LEADGEN"]) <= set(DEFAULTS)
    assert (
        plugin_messages(
            WAGTAIL_LEADGEN=settings["WAGTAIL_LEADGEN"],
            WAGTAILDOCS_SERVE_METHOD=settings["WAGTAILDOCS_SERVE_METHOD"],
        )
        == []
    )


def test_the_task_queue_snippet_names_a_backend_the_plugin_accepts():
    settings = apply_snippets("settings.py", "tasks.py")
    assert {"django_tasks", "django_tasks_db"} <= set(settings["INSTALLED_APPS"])
    for app in ("django_tasks", "django_tasks_db"):
        assert importlib.util.find_spec(app) is not None
    assert plugin_messages(TASKS=settings["TASKS"]) == []


@pytest.mark.django_db
def test_the_production_snippet_leaves_the_plugin_nothing_to_report(monkeypatch):
    monkeypatch.setenv("DJANGO_SECRET_KEY", "x" * 50)
    monkeypatch.setenv("DJANGO_ALLOWED_HOSTS", "leads.example.com")
    monkeypatch.setenv("WAGTAILADMIN_BASE_URL", "https://leads.example.com")
    settings = apply_snippets("settings.py", "production.py")
    assert settings["WAGTAIL_LEADGEN"]["TRUSTED_PROXY_COUNT"] == 1
    assert "LocMemCache" not in settings["CACHES"]["default"]["BACKEND"]
    with override_settings(WAGTAIL_LEADGEN=settings["WAGTAIL_LEADGEN"]):
        leadgen_settings.reload()
        assert leadgen_settings.site_url == "https://leads.example.com"
    assert (
        plugin_messages(
            deploy=True,
            WAGTAIL_LEADGEN=settings["WAGTAIL_LEADGEN"],
            CACHES=settings["CACHES"],
        )
        == []
    )


# -- Step 3: URLs ----------------------------------------------------------------


@pytest.fixture
def guide_urls(monkeypatch, tmp_path, settings):
    """The guide's urls.py as the site's URLconf, in DEBUG, with `wagtail
    start`'s search app and a MEDIA_ROOT holding an image and a document."""
    search = types.ModuleType("search")
    search.views = types.SimpleNamespace(search=lambda request: None)
    monkeypatch.setitem(sys.modules, "search", search)
    settings.DEBUG = True
    settings.MEDIA_ROOT = tmp_path
    for folder, name in (("images", "photo.png"), ("documents", "guide.pdf")):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / name).write_bytes(b"file")
    spec = importlib.util.spec_from_file_location("guide_urls", INSTALL_DIR / "urls.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setitem(sys.modules, "guide_urls", module)
    settings.ROOT_URLCONF = "guide_urls"
    return module


@pytest.mark.django_db
def test_the_guides_urls_serve_the_plugin_and_images_but_never_documents(
    guide_urls, client
):
    assert reverse("wagtail_leadgen:download", args=["x"]).startswith("/leadgen/")
    assert client.get("/media/images/photo.png").status_code == 200
    assert client.get("/media/documents/guide.pdf").status_code == 404
    with pytest.raises(Resolver404):  # no route at all, not a refusing one
        resolve("/media/documents/guide.pdf")
    for walk in (
        "/media/images/../documents/guide.pdf",
        "/media/images/%2e%2e/documents/guide.pdf",
        "/media/original_images/../documents/guide.pdf",
    ):
        assert client.get(walk).status_code in (400, 404), walk
    page = make_landing_page()
    assert client.get(page.url).status_code == 200


# -- Step 4: the site's layout, step 8: a page type of its own ----------------------


@pytest.mark.django_db
def test_the_guides_base_template_puts_lead_pages_in_the_sites_layout(client):
    page = make_landing_page(title="Free audit")
    with site_layout():
        html = client.get(page.url).content.decode()
    assert html.index('class="site-header"') < html.index("leadgen-form")
    assert "<title>Free audit - Example site</title>" in html
    assert 'href="/static/wagtail_leadgen/leadgen.css"' in html
    assert 'class="leadgen-landing"' in html  # the page's body_class block


@pytest.mark.django_db
def test_the_guides_page_template_renders_with_its_tags(client, monkeypatch):
    page = make_landing_page(title="The white paper")
    monkeypatch.setattr(LandingPage, "template", "offers/white_paper_page.html")
    with site_layout(dirs=[INSTALL_DIR / "offers" / "templates"]):
        response = client.get(page.url)
    html = response.content.decode()
    assert response.status_code == 200
    assert 'class="white-paper"' in html and "<h1>The white paper</h1>" in html
    assert 'class="site-header"' in html and 'name="email"' in html


def test_the_guides_page_type_is_built_on_the_mixin_with_that_template():
    tree = ast.parse((INSTALL_DIR / "offers" / "models.py").read_text())
    (page_class,) = [node for node in tree.body if isinstance(node, ast.ClassDef)]
    assert [base.id for base in page_class.bases] == ["GatedDocumentMixin", "Page"]
    template = next(
        node.value.value
        for node in page_class.body
        if isinstance(node, ast.Assign) and node.targets[0].id == "template"
    )
    assert (INSTALL_DIR / "offers" / "templates" / template).is_file()


# -- Step 9: the site's Content-Security-Policy --------------------------------------


@pytest.mark.django_db
@pytest.mark.skipif(django.VERSION < (6, 0), reason="Django 6's built-in CSP")
def test_the_guides_django_policy_lets_the_layouts_inline_script_run(client):
    settings = apply_snippets(
        "csp.py",
        MIDDLEWARE=[],
        TEMPLATES=[{"OPTIONS": {"context_processors": []}}],
    )
    page = make_landing_page()
    with site_layout(
        middleware=settings["MIDDLEWARE"],
        context_processors=settings["TEMPLATES"][0]["OPTIONS"]["context_processors"],
        SECURE_CSP=settings["SECURE_CSP"],
        WAGTAIL_LEADGEN={"CONTENT_SECURITY_POLICY": None},
    ):
        response = client.get(page.url)
    nonce = re.search(r"'nonce-([^']+)'", response["Content-Security-Policy"]).group(1)
    assert f'<script nonce="{nonce}">' in response.content.decode()


# -- The settings reference ------------------------------------------------------


def documented_keys() -> dict[str, set[str]]:
    """Keys in the rows of the reference's settings tables, by section: ""
    for the main table, the section's name for a nested one."""
    settings_part = REFERENCE.split("\n## Settings\n", 1)[1].split("\n## ", 1)[0]
    keys: dict[str, set[str]] = {"": set()}
    section = ""
    for line in settings_part.splitlines():
        heading = re.match(r"### `([A-Z_]+)`$", line)
        if heading:
            section = heading.group(1)
            keys[section] = set()
        elif line.startswith("### "):
            section = ""
        row = re.match(r"\| `([A-Z][A-Z0-9_]*)` \|", line)
        if row:
            keys[section].add(row.group(1))
    return keys


def nested_defaults() -> dict[str, set[str]]:
    """The options inside the nested sections, from the defaults themselves."""
    nested = {
        key: set(value)
        for key, value in DEFAULTS.items()
        if isinstance(value, dict) and all(str(k).isupper() for k in value)
    }
    nested.pop("CRM_BACKENDS", None)  # aliases, not options
    nested["CONTENT_TARGETS"] = set(DEFAULTS["CONTENT_TARGETS"]["default"])
    nested["PROOF_OF_WORK"] = set(PROOF_OF_WORK_DEFAULTS)
    return nested


def test_the_reference_documents_every_setting_and_no_other():
    documented = documented_keys()
    assert sorted(set(DEFAULTS) - documented[""]) == [], "missing from the reference"
    assert sorted(documented[""] - set(DEFAULTS)) == [], "documented but not a setting"


@pytest.mark.parametrize("section", sorted(nested_defaults()))
def test_the_reference_documents_every_key_of_each_nested_section(section):
    documented = documented_keys().get(section, set())
    assert documented == nested_defaults()[section]
