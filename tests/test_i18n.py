"""Visitor and editor text ships in English and French, and the catalogues are complete."""

from __future__ import annotations

import ast
import contextlib
import gettext
import html
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import translation

import wagtail_leadgen
from wagtail_leadgen.models import LandingPage, LeadgenSiteSettings

from .factories import make_landing_page, make_purpose, set_controller
from .helpers import form_data

LOCALE_DIR = Path(wagtail_leadgen.__file__).resolve().parent / "locale"
FR_PO = LOCALE_DIR / "fr" / "LC_MESSAGES" / "django.po"
FR_MO = LOCALE_DIR / "fr" / "LC_MESSAGES" / "django.mo"
EN_PO = LOCALE_DIR / "en" / "LC_MESSAGES" / "django.po"

# %(name)s, %s, %d… but not the literal "%%".
PLACEHOLDER_RE = re.compile(r"%(?:\([^)]+\))?[-#0 +]*\d*(?:\.\d+)?[sdifgexXrcu]")
TAG_RE = re.compile(r"<[^>]+>")


# -- A small .po reader (no extra dependency) ------------------------------


@dataclass
class Entry:
    msgid: str = ""
    msgid_plural: str | None = None
    msgctxt: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    obsolete: bool = False

    @property
    def is_header(self) -> bool:
        return self.msgid == "" and self.msgctxt is None


def read_po(path: Path) -> list[Entry]:
    entries: list[Entry] = []
    entry: Entry | None = None
    target: tuple[str, int] | None = None

    def append(kind: str, index: int, text: str) -> None:
        assert entry is not None
        if kind == "msgstr":
            entry.msgstr[index] = entry.msgstr.get(index, "") + text
        else:
            setattr(entry, kind, (getattr(entry, kind) or "") + text)

    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line:
            entry, target = None, None
            continue
        if entry is None:
            entry = Entry()
            entries.append(entry)
        if line.startswith("#~"):
            entry.obsolete = True
            continue
        if line.startswith("#,"):
            entry.flags.update(flag.strip() for flag in line[2:].split(","))
            continue
        if line.startswith("#"):
            continue
        match = re.match(
            r'^(msgctxt|msgid_plural|msgid|msgstr)(?:\[(\d+)\])?\s+(".*")$', line
        )
        if match:
            kind, index = match.group(1), int(match.group(2) or 0)
            target = (kind, index)
            if kind == "msgstr":
                entry.msgstr.setdefault(index, "")
            append(kind, index, ast.literal_eval(match.group(3)))
        elif line.startswith('"') and target:
            append(*target, ast.literal_eval(line))
        else:
            raise AssertionError(f"{path}: cannot read line {raw!r}")
    return [e for e in entries if not e.obsolete]


def header(entries: list[Entry]) -> dict[str, str]:
    (head,) = [e for e in entries if e.is_header]
    return dict(
        line.split(": ", 1) for line in head.msgstr[0].splitlines() if ": " in line
    )


def messages(entries: list[Entry]) -> list[Entry]:
    return [e for e in entries if not e.is_header]


# -- Rendering ---------------------------------------------------------------


@pytest.fixture
def page_with_notice(db):
    set_controller(
        controller_name="Acme SAS",
        contact_email="privacy@acme.example",
        dpo_email="dpo@acme.example",
    )
    one_month = make_purpose(recipients="Acme sales", retention_months=1)
    three_years = make_purpose(recipients="Acme partners", retention_months=36)
    return make_landing_page(purposes=[one_month, three_years])


def rendered(client, page, language: str) -> str:
    response = client.get(page.url, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def test_the_landing_page_speaks_french_to_a_french_browser(client, page_with_notice):
    text = rendered(client, page_with_notice, "fr")
    assert '<html lang="fr">' in text
    for french in (
        "Aller au contenu",
        "Profitez-en dès maintenant",
        "Les champs marqués d'un * sont obligatoires.",
        "Vos choix",
        "Envoyer",
        "Acme SAS est responsable du traitement des données",
        "Base légale : Consentement.",
        "Destinataires : Acme sales. Durée de conservation : 1 mois",
        "Destinataires : Acme partners. Durée de conservation : 36 mois",
        "droits d'accès, de rectification",
        'écrivez à <a href="mailto:privacy@acme.example">',
        "délégué à la protection des données",
        "En savoir plus sur vos données et vos droits",
        "introduire une réclamation auprès de l'autorité de contrôle : "
        '<a href="https://www.cnil.fr">CNIL</a>',
        "E-mail",
    ):
        assert french in text
    for english in (
        "More about your data",
        "Fields marked",
        "Recipients:",
        "Legal basis",
        "Send<",
    ):
        assert english not in text


def test_the_landing_page_stays_in_english_for_an_english_browser(
    client, page_with_notice
):
    text = rendered(client, page_with_notice, "en")
    assert '<html lang="en">' in text
    for english in (
        "More about your data and your rights",
        "Fields marked * are required.",
        "Acme SAS is responsible for the data you send with this form.",
        "Legal basis: Consent.",
        "Recipients: Acme sales. Kept for 1 month after",
        "Recipients: Acme partners. Kept for 36 months after",
        "You can lodge a complaint with the supervisory authority: "
        '<a href="https://www.cnil.fr">CNIL</a>',
    ):
        assert english in text
    assert "En savoir plus sur vos données" not in text


@pytest.mark.django_db
def test_form_errors_are_shown_in_french(client):
    page = make_landing_page()
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "fr"
    response = client.post(page.url, form_data(client, page, email="ann@localhost"))
    assert response.status_code == 400
    text = html.unescape(response.content.decode())
    assert "Veuillez corriger les points suivants :" in text
    assert "Saisissez une adresse e-mail avec un nom de domaine complet" in text


def test_editor_labels_are_translated():
    with translation.override("fr"):
        assert str(LandingPage._meta.verbose_name) == "page d'atterrissage"
        assert (
            str(LeadgenSiteSettings._meta.get_field("controller_name").verbose_name)
            == "responsable du traitement"
        )
    with translation.override("en"):
        assert str(LandingPage._meta.verbose_name) == "landing page"


# -- Catalogues ----------------------------------------------------------------


def test_the_french_catalogue_has_a_french_header():
    head = header(read_po(FR_PO))
    assert head["Language"] == "fr"
    assert head["Content-Type"] == "text/plain; charset=UTF-8"
    assert head["Plural-Forms"] == "nplurals=2; plural=(n > 1);"


def test_the_english_catalogue_has_a_valid_header():
    head = header(read_po(EN_PO))
    assert head["Language"] == "en"
    assert head["Content-Type"] == "text/plain; charset=UTF-8"
    assert head["Plural-Forms"] == "nplurals=2; plural=(n != 1);"


def test_every_french_entry_is_translated_and_not_fuzzy():
    entries = read_po(FR_PO)
    assert messages(entries), "the French catalogue is empty"
    fuzzy = [e.msgid for e in entries if "fuzzy" in e.flags]
    assert fuzzy == []
    untranslated = [
        e.msgid
        for e in messages(entries)
        if not e.msgstr
        or not all(e.msgstr.values())
        or (e.msgid_plural is not None and sorted(e.msgstr) != [0, 1])
    ]
    assert untranslated == []


def test_french_entries_keep_their_placeholders_and_markup():
    wrong = []
    for entry in messages(read_po(FR_PO)):
        sources = [entry.msgid] + ([entry.msgid_plural] if entry.msgid_plural else [])
        found = [set(PLACEHOLDER_RE.findall(source)) for source in sources]
        # A singular may leave the count out ("in the last day"): every form
        # keeps what all source forms share and uses nothing they lack.
        required, allowed = set.intersection(*found), set.union(*found)
        expected_tags = sorted(TAG_RE.findall(entry.msgid))
        for translated in entry.msgstr.values():
            placeholders = set(PLACEHOLDER_RE.findall(translated))
            if (
                not required <= placeholders <= allowed
                or sorted(TAG_RE.findall(translated)) != expected_tags
            ):
                wrong.append((entry.msgid, translated))
    assert wrong == []


def test_the_compiled_french_catalogue_matches_the_po_file():
    """The committed .mo must be recompiled whenever the .po changes."""
    with FR_MO.open("rb") as mo:
        compiled = gettext.GNUTranslations(mo)
    stale = []
    for entry in messages(read_po(FR_PO)):
        if entry.msgid_plural is None:
            got = {
                0: compiled.pgettext(entry.msgctxt, entry.msgid)
                if entry.msgctxt
                else compiled.gettext(entry.msgid)
            }
        else:
            got = {
                n: compiled.npgettext(
                    entry.msgctxt, entry.msgid, entry.msgid_plural, count
                )
                if entry.msgctxt
                else compiled.ngettext(entry.msgid, entry.msgid_plural, count)
                for n, count in ((0, 1), (1, 2))
            }
        if got != entry.msgstr:
            stale.append(entry.msgid)
    assert stale == []


@pytest.mark.skipif(
    shutil.which("xgettext") is None, reason="GNU gettext (xgettext) is not installed"
)
def test_every_translatable_string_of_the_package_is_in_the_catalogue(tmp_path):
    """A string marked for translation but missing from the .po would show in
    English to French visitors: the catalogue is regenerated from the code
    into a scratch copy and must hold exactly the committed msgids."""
    copy = tmp_path / "wagtail_leadgen"
    shutil.copytree(LOCALE_DIR.parent, copy, ignore=shutil.ignore_patterns("*.pyc"))
    with contextlib.chdir(copy):
        call_command("makemessages", locale=["fr"], verbosity=0)
    regenerated = read_po(copy / "locale" / "fr" / "LC_MESSAGES" / "django.po")

    def msgids(entries):
        return {(e.msgctxt, e.msgid, e.msgid_plural) for e in messages(entries)}

    committed = msgids(read_po(FR_PO))
    assert sorted(msgids(regenerated) - committed, key=str) == []
    assert sorted(committed - msgids(regenerated), key=str) == []
