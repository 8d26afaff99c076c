"""Content hints (R5, R6): text analysis, targets and the lead-generation checks."""

import socket

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings
from wagtail.admin.userbar import ContentCheckerItem
from wagtail.rich_text import RichText

from tests.testapp.models import NewsletterPage
from wagtail_leadgen.models import ConsentPurpose, LandingPage, ThankYouPage
from wagtail_leadgen.panels import INACTIVE_SELECTOR, add_leadgen_checks
from wagtail_leadgen.services.hints import (
    analyse_content,
    content_hints,
    extract_content,
    form_length_hint,
    get_targets,
    page_hints,
)
from wagtail_leadgen.services.hints import text as hints_text

from .factories import (
    make_cta,
    make_ebook_page,
    make_landing_page,
    make_purpose,
    make_thank_you_page,
    page_model,
    set_controller,
)
from .helpers import custom_base_page_only, default_page_only, meta_description

# -- Fixtures: small texts written for these tests ------------------------------------
FR_EASY = (
    "<h2>Pourquoi écrire pour vos lecteurs</h2>"
    "<p>Un bon article répond à une vraie question. Le lecteur cherche une solution "
    "simple. Il veut la trouver vite. Donnez-lui des exemples clairs et des étapes "
    "concrètes. Parlez de son problème avant de parler de votre produit.</p>"
    "<p>Chaque paragraphe porte une seule idée. Les phrases restent courtes. Les mots sont "
    "ceux de tous les jours. Le lecteur comprend sans effort et il lit jusqu'au bout. À la "
    "fin, il a envie d'en savoir plus.</p>"
    "<h2>Le formulaire</h2>"
    "<p>Un formulaire court convertit mieux qu'un long. Demandez l'adresse e-mail et rien "
    "d'autre si vous pouvez. Chaque champ en plus fait fuir une partie des visiteurs. "
    "Expliquez ce que vous ferez des données. Dites qui les reçoit et combien de temps vous "
    "les gardez.</p>"
    "<p>Le bouton dit ce que le visiteur obtient. Il ne dit pas seulement envoyer. Il dit "
    "par exemple recevoir le guide. La page de remerciement donne le fichier et propose une "
    "autre lecture utile.</p>"
)
FR_MEDIUM = (
    "<p>Un contenu utile répond précisément aux questions que se pose une clientèle bien "
    "identifiée. Avant de rédiger, définissez le lecteur visé et ce qu'il saura faire après "
    "la lecture. Un guide détaillé, qui anticipe les objections fréquentes, obtient "
    "généralement de meilleurs résultats qu'une annonce rapide, car les moteurs de recherche "
    "comme les visiteurs récompensent la profondeur.</p>"
    "<p>La longueur ne suffit pourtant pas à créer de la valeur. Supprimez les paragraphes "
    "qui répètent une idée, remplacez les affirmations vagues par des exemples concrets et "
    "placez l'appel à l'action là où le lecteur souhaite passer à l'étape suivante. Mesurez "
    "les conversions de chaque page et améliorez les articles qui attirent des visiteurs "
    "sans générer de contacts.</p>"
)
FR_HARD = (
    "<p>Conformément aux dispositions législatives et réglementaires applicables en matière "
    "de protection des données à caractère personnel, le responsable du traitement "
    "détermine, préalablement à toute opération de collecte, les finalités déterminées, "
    "explicites et légitimes poursuivies, ainsi que la durée de conservation proportionnée "
    "à ces finalités, sans préjudice des obligations d'archivage intermédiaire résultant "
    "d'exigences comptables ou fiscales particulières.</p>"
    "<p>L'appréciation de la nécessité des informations sollicitées auprès des personnes "
    "concernées s'effectue au regard de l'objectif effectivement poursuivi, de sorte que la "
    "collecte systématique d'informations supplémentaires, notamment téléphoniques ou "
    "professionnelles, doit pouvoir être justifiée par une utilisation opérationnelle "
    "démontrable et documentée dans le registre des activités de traitement.</p>"
)
EN_EASY = (
    "<h2>Write for your reader</h2>"
    "<p>A good page answers one real question. Your reader wants help. They want it fast. "
    "Give them clear steps and short examples. Talk about their problem first. Then talk "
    "about what you sell.</p>"
    "<p>Keep one idea in each part. Use short words that people use every day. Read your "
    "page out loud. If you run out of breath, the sentence is too long. Cut it in two.</p>"
    "<h2>Keep the form short</h2>"
    "<p>Ask for an email and not much more. Each new field makes some people leave. Say "
    "what you will do with the data. Say who gets it and how long you keep it. Then "
    "thank them and give them the guide.</p>"
)
EN_MEDIUM = (
    "<p>Content marketing works when each article solves a specific problem for a clearly "
    "defined audience. Before writing, decide who the article is for and what they should "
    "be able to do after reading it. A detailed guide that answers follow-up questions "
    "usually performs better than a short announcement, because search engines and readers "
    "both reward depth.</p>"
    "<p>However, length alone does not create value. Remove paragraphs that repeat an idea, "
    "replace vague claims with examples, and place a call to action where the reader is "
    "most likely to want the next step. Measure conversions for every page, and update the "
    "articles that attract visitors but rarely generate leads.</p>"
)
EN_HARD = (
    "<p>Notwithstanding the aforementioned considerations, organisations undertaking "
    "systematic processing of personal information for commercial prospecting must "
    "demonstrate, through comprehensive documentation maintained within their records of "
    "processing activities, that the categories of information collected are adequate, "
    "relevant and limited to what is necessary in relation to the purposes for which they "
    "are processed.</p>"
    "<p>Furthermore, the determination of proportionate retention periods necessitates a "
    "contextual evaluation of operational requirements, contractual obligations and "
    "applicable statutory limitations, particularly where information is subsequently "
    "transferred to external processors responsible for customer relationship management "
    "infrastructure.</p>"
)


def words(count, word="mot"):
    return " ".join([word] * count)


def ids(hints):
    return {hint.id: hint.level for hint in hints}


# -- Extraction and counting -----------------------------------------------------------
def test_rich_text_keeps_paragraph_and_heading_boundaries():
    extracted = extract_content(
        "<h2>Title&nbsp;one</h2><p>First <b>bold</b> line.<br>Second line.</p>"
        "<ul><li>Item one</li><li>Item two</li></ul><h3>Next</h3><p>Last.</p>"
    )
    assert [(b.kind, b.text) for b in extracted.blocks] == [
        ("heading", "Title one"),
        ("paragraph", "First bold line. Second line."),
        ("item", "Item one"),
        ("item", "Item two"),
        ("heading", "Next"),
        ("paragraph", "Last."),
    ]


def test_plain_text_paragraphs_are_separated_by_blank_lines():
    extracted = extract_content("One line.\nSame paragraph.\n\nSecond paragraph.")
    assert [b.text for b in extracted.blocks] == [
        "One line. Same paragraph.",
        "Second paragraph.",
    ]


def test_counts_words_sentences_and_structure():
    analysis = analyse_content(
        "<p>M. Dupont lit l’offre. C’est-à-dire un guide ! Il le veut?</p>"
        "<h2>Suite</h2><p>Deux mots.</p>",
        "fr",
    )
    # "l’offre" and "C’est-à-dire" are one word each; "M." does not end a sentence.
    assert analysis.words == 13
    assert analysis.sentences == 4
    assert analysis.paragraphs == 2
    assert analysis.subheadings == 1
    assert analysis.longest_paragraph == 10
    assert analysis.max_words_between_subheadings == 10
    assert analysis.readability is None  # under 100 words


def test_long_sentences_and_reading_time():
    text = "<p>" + " ".join([words(25) + "."] * 2 + [words(5) + "."] * 6) + "</p>"
    analysis = analyse_content(text, "fr")
    assert analysis.sentences == 8
    assert analysis.long_sentences == 2
    assert analysis.long_sentence_share == 0.25
    assert analysis.words == 80
    # French is read at 214 words a minute (Brysbaert 2019, as Wagtail uses).
    assert analysis.reading_time_seconds == round(80 * 60 / 214)
    assert analysis.reading_time_minutes == 1


@pytest.mark.django_db  # a new page looks up its content type
def test_streamfield_values_headings_and_ctas_are_walked():
    page = LandingPage(
        title="Offer",
        intro="Get the guide.",
        body=[
            ("paragraph", RichText("<h2>Why</h2><p>Because it helps.</p>")),
            ("cta", {"cta": None}),
        ],
    )
    extracted = extract_content(page)
    assert [b.text for b in extracted.blocks] == [
        "Get the guide.",
        "Why",
        "Because it helps.",
    ]
    assert extracted.ctas == [None]
    assert list(extracted.fields) == ["intro", "body"]


@pytest.mark.parametrize(
    ("text", "language", "low", "high"),
    [
        (FR_EASY, "fr", 85, 100),
        (FR_MEDIUM, "fr", 55, 75),
        (FR_HARD, "fr", 0, 10),
        (EN_EASY, "en", 85, 100),
        (EN_MEDIUM, "en", 45, 62),
        (EN_HARD, "en", 0, 10),
    ],
)
def test_readability_of_known_texts(text, language, low, high):
    analysis = analyse_content(text, language, min_words=50)
    assert analysis.readability is not None
    assert low <= analysis.readability <= high
    expected = "Kandel & Moles" if language == "fr" else "Flesch reading ease"
    assert analysis.readability_formula == expected


@pytest.mark.parametrize("text", [FR_EASY, FR_MEDIUM])
def test_french_score_agrees_with_textstats_own_french_formula(text):
    from textstat.textstat import textstatistics

    french = textstatistics()  # its own instance: the module-level one is global
    french.set_lang("fr")
    plain = " ".join(block.text for block in extract_content(text).blocks)
    ours = analyse_content(text, "fr", min_words=50)
    assert ours.words == french.lexicon_count(plain)
    assert ours.readability == pytest.approx(french.flesch_reading_ease(plain), abs=2)


def test_scores_are_clamped_and_not_given_under_the_minimum():
    hard = analyse_content(FR_HARD, "fr", min_words=50)
    assert hard.readability == 0  # the raw Kandel & Moles score is negative
    short = analyse_content("<p>Un texte court.</p>", "fr")
    assert short.readability is None


def test_no_score_for_a_language_without_a_formula():
    analysis = analyse_content("<p>" + words(120, "sana") + ".</p>", "fi")
    assert analysis.readability is None
    assert analysis.readability_formula is None
    hints = content_hints(analysis, get_targets(None))
    assert "readability" in ids(hints)


def test_english_syllables_stay_close_to_the_pronouncing_dictionary():
    # Counts from CMUdict; pyphen alone gives 2, 1, 1, 2 for the first four.
    expected = {
        "every": 3,
        "area": 3,
        "data": 2,
        "company": 3,
        "information": 4,
        "readability": 5,
        "the": 1,
    }
    counted = {word: hints_text.count_syllables(word, "en") for word in expected}
    assert sum(counted.values()) >= sum(expected.values()) - 1


@pytest.mark.parametrize("language", ["fr", "en"])
def test_our_hyphenation_count_matches_pyphen(language):
    import pyphen

    hyphenator = pyphen.Pyphen(lang=language)
    text = extract_content(FR_MEDIUM + FR_HARD + EN_MEDIUM + EN_HARD).text
    for word in set(hints_text.WORD_RE.findall(text.lower())):
        assert hints_text.hyphenation_points(hyphenator, word) == len(
            hyphenator.positions(word)
        ), word


# -- Hints on text -------------------------------------------------------------------------
def test_content_pages_aim_for_1000_words_and_2500_rank_best():
    targets = get_targets(None)
    assert (targets["WORDS_GOOD"], targets["WORDS_EXCELLENT"]) == (1000, 2500)
    for count, level in [(400, "warning"), (1200, "good"), (2600, "good")]:
        text = "<p>" + (words(10) + ". ") * (count // 10) + "</p>"
        analysis = analyse_content(text, "fr")
        assert ids(content_hints(analysis, targets))["words"] == level


def test_structure_hints():
    long_paragraph = "<p>" + (words(15) + ". ") * 11 + "</p>"  # 165 words
    analysis = analyse_content(long_paragraph * 2, "fr")  # 330 words, no heading
    found = ids(content_hints(analysis, get_targets(None)))
    assert found["long-paragraph"] == "warning"
    assert found["subheadings"] == "warning"
    assert "long-sentences" not in found

    with_headings = ("<h2>Partie</h2><p>" + (words(25) + ". ") * 5 + "</p>") * 3
    found = ids(content_hints(analyse_content(with_headings, "fr"), get_targets(None)))
    assert "subheadings" not in found
    assert found["long-sentences"] == "warning"


@pytest.mark.parametrize(
    ("score", "level"), [(75, "good"), (60, "info"), (55, "info"), (49.9, "warning")]
)
def test_readability_levels(score, level):
    analysis = analyse_content(FR_EASY, "fr", min_words=50)
    analysis.readability = score
    hint = next(
        h for h in content_hints(analysis, get_targets(None)) if h.id == "readability"
    )
    assert hint.level == level
    assert hint.message
    assert (hint.action == "") == (level == "good")


# -- Targets --------------------------------------------------------------------------------
def test_targets_per_page_type():
    assert get_targets(LandingPage)["WORDS_MAX"] == 500
    assert get_targets(LandingPage)["OFFER_ABOVE_FORM"] is True
    assert get_targets(ThankYouPage)["WORDS_MAX"] == 150
    assert get_targets(ThankYouPage)["META_DESCRIPTION"] is False
    assert get_targets(NewsletterPage)["WORDS_MAX"] == 500  # a site's capture page
    assert get_targets(page_model())["WORDS_GOOD"] == 1000  # any other page: content


@override_settings(
    WAGTAIL_LEADGEN={
        "CONTENT_TARGETS": {
            "default": {"PARAGRAPH_MAX_WORDS": 100},
            "landing": {"WORDS_MAX": 800},
            "testapp.newsletterpage": {"FORM_FIELDS_GOOD": 2},
        }
    }
)
def test_a_site_overrides_targets_and_keeps_the_other_defaults():
    landing = get_targets(LandingPage)
    assert landing["WORDS_MAX"] == 800
    assert landing["PARAGRAPH_MAX_WORDS"] == 100
    assert landing["READABILITY_GOOD"] == 60
    newsletter = get_targets(NewsletterPage)
    assert newsletter["FORM_FIELDS_GOOD"] == 2
    assert newsletter["WORDS_MAX"] == 800
    assert get_targets(ThankYouPage)["WORDS_MAX"] == 150


@pytest.mark.parametrize(
    ("targets", "message"),
    [
        ({"landing": {"WORDS_MAXIMUM": 3}}, "WORDS_MAXIMUM"),
        ({"landingpage": {"WORDS_MAX": 3}}, "landingpage"),
    ],
)
def test_misspelled_targets_are_reported(targets, message):
    with (
        override_settings(WAGTAIL_LEADGEN={"CONTENT_TARGETS": targets}),
        pytest.raises(ImproperlyConfigured, match=message),
    ):
        get_targets(LandingPage)


@pytest.mark.parametrize(
    ("fields", "level"),
    [
        (1, "good"),
        (4, "good"),
        (5, "warning"),
        (6, "warning"),
        (7, "poor"),
        (8, "poor"),
    ],
)
def test_form_length_thresholds(fields, level):
    hint = form_length_hint(fields, get_targets(LandingPage))
    assert hint.level == level
    assert str(fields) in hint.message


# -- Lead-generation checks on pages -----------------------------------------------------
FIELD = {"label": "", "required": False, "help_text": ""}


def landing(**kwargs):
    return make_landing_page(
        **{**meta_description("A free audit of your site."), **kwargs}
    )


@pytest.mark.django_db
def test_a_complete_landing_page_has_no_lead_generation_problem():
    set_controller(controller_name="Example SAS", contact_email="dpo@example.com")
    page = landing(purposes=[make_purpose()])
    result = page_hints(page)
    problems = {h.id for h in result.hints if h.level in ("warning", "poor")}
    assert problems == set()
    assert result.form_fields == 1
    assert result.get("form-fields").level == "good"


@pytest.mark.django_db
def test_a_long_form_is_poor():
    set_controller(controller_name="Example SAS", contact_email="dpo@example.com")
    kinds = ["first_name", "last_name", "company", "job_title", "phone", "country"]
    page = landing(form_fields=[(kind, FIELD) for kind in kinds])
    result = page_hints(page)
    assert result.form_fields == 7
    assert result.get("form-fields").level == "poor"


@pytest.mark.django_db
def test_consent_purpose_problems():
    set_controller(controller_name="Example SAS", contact_email="dpo@example.com")
    empty = make_purpose(name="Partners")
    draft = make_purpose(name="Newsletter", publish=False, live=False)
    page = landing(purposes=[empty, draft])
    # Written before the rule that purpose texts must have words.
    ConsentPurpose.objects.filter(pk=empty.pk).update(purpose_text="<p> </p>")
    page = LandingPage.objects.get(pk=page.pk)
    found = {(h.id, h.level) for h in page_hints(page).hints}
    assert ("purpose-text", "poor") in found
    assert ("purpose-unpublished", "warning") in found
    assert "Partners" in page_hints(page).get("purpose-text").message


@pytest.mark.django_db
def test_missing_information_notice():
    page = landing()
    assert page_hints(page).get("notice").level == "poor"
    set_controller(controller_name="Example SAS", contact_email="dpo@example.com")
    assert page_hints(page).get("notice") is None


@pytest.mark.django_db
def test_ctas_pointing_to_unpublished_or_missing_pages():
    target = make_landing_page(title="Offer")
    unpublished = make_landing_page(title="Draft offer")
    unpublished.unpublish()
    gone = make_landing_page(title="Gone")
    ok = make_cta(label="To the offer", target_page=target)
    draft_cta = make_cta(label="To the draft", target_page=unpublished)
    gone_cta = make_cta(label="To nowhere", target_page=gone)
    gone.delete()
    gone_cta.refresh_from_db()
    page = landing(
        body=[
            ("cta", {"cta": ok}),
            ("cta", {"cta": draft_cta}),
            ("cta", {"cta": gone_cta}),
            ("cta", {"cta": None}),
        ]
    )
    messages = [h.message for h in page_hints(page).hints if h.id == "cta-target"]
    assert len(messages) == 3
    assert any("To the draft" in m for m in messages)
    assert any("To nowhere" in m for m in messages)
    assert not any("To the offer" in m for m in messages)


@pytest.mark.django_db
def test_thank_you_page_checks():
    set_controller(controller_name="Example SAS", contact_email="dpo@example.com")
    without = landing(thank_you=False)
    assert page_hints(without).get("thank-you-page").level == "warning"
    ebook = make_ebook_page(thank_you=False, **meta_description("A guide."))
    assert page_hints(ebook).get("thank-you-page").level == "warning"
    thanks = make_thank_you_page()
    thanks.unpublish()
    with_draft = landing(thank_you=thanks)
    hint = page_hints(with_draft).get("thank-you-page")
    assert hint.level == "warning"
    assert thanks.title in hint.message


@default_page_only("about search_description, a field of Wagtail's default Page")
@pytest.mark.django_db
def test_meta_description():
    page = make_landing_page(search_description="")
    assert ids(page_hints(page).hints)["meta-description"] == "warning"
    # Thank-you pages are not meant to be found by search engines.
    thanks = make_thank_you_page(search_description="")
    assert "meta-description" not in ids(page_hints(thanks).hints)


@custom_base_page_only
@pytest.mark.django_db
def test_no_meta_description_hint_on_a_base_page_without_one():
    """Nothing for the editor to fill in: the custom run's base page has no
    search_description, so the hint would be a warning nobody can fix."""
    page = make_landing_page()
    assert not hasattr(page, "search_description")
    assert "meta-description" not in ids(page_hints(page).hints)


@pytest.mark.django_db
def test_offer_above_the_form():
    page = make_landing_page(intro="")
    assert ids(page_hints(page).hints)["offer-above-form"] == "warning"


@pytest.mark.django_db
def test_thank_you_pages_should_stay_short():
    thanks = make_thank_you_page(message="<p>" + (words(10) + ". ") * 20 + "</p>")
    assert ids(page_hints(thanks).hints)["words-max"] == "info"


@pytest.mark.django_db
def test_hints_are_sorted_worst_first_and_serialise():
    page = make_landing_page(intro="", thank_you=False)
    result = page_hints(page)
    order = ["poor", "warning", "info", "good"]
    levels = [order.index(h.level) for h in result.hints]
    assert levels == sorted(levels)
    data = result.as_dict()
    assert data["metrics"]["words"] == 0
    assert data["counts"]["poor"] == result.poor
    assert {"id", "level", "message", "action"} == set(data["hints"][0])


# -- Wagtail's Checks panel ----------------------------------------------------------------
@pytest.mark.django_db
def test_lead_generation_checks_feed_the_content_checker():
    page = make_landing_page(thank_you=False)  # no notice, no thank-you page
    item = ContentCheckerItem(in_editor=True)
    add_leadgen_checks(None, [item], page)
    rules = {rule["id"]: rule for rule in item.axe_custom_rules}
    assert rules["leadgen-notice"]["selector"] == "body"
    assert rules["leadgen-notice"]["impact"] == "serious"
    assert rules["leadgen-thank-you-page"]["selector"] == "body"
    assert rules["leadgen-form-fields"]["selector"] == INACTIVE_SELECTOR
    assert "leadgen-notice" in item.axe_run_only
    assert item.axe_messages["leadgen-notice"]["error_name"]
    assert {"id": "leadgen-needs-attention"}.items() <= item.axe_custom_checks[
        -1
    ].items()
    # Wagtail's own rules are kept.
    assert "alt-text-quality" in rules


@pytest.mark.django_db
def test_the_editor_checks_panel_carries_the_lead_generation_rules(admin_client):
    page = make_landing_page()
    response = admin_client.get(f"/admin/pages/{page.pk}/edit/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "leadgen-thank-you-page" in html  # in the Checks panel's Axe config
    assert "data-leadgen-hints" in html  # our own panel
    assert "wagtail_leadgen/hints.js" in html


@pytest.mark.django_db
def test_the_panel_says_why_its_word_count_differs_from_wagtails(admin_client):
    page = make_landing_page()
    html = admin_client.get(f"/admin/pages/{page.pk}/edit/").content.decode()
    note = html.split('class="leadgen-hints__note">', 1)[1].split("</p>", 1)[0]
    assert "page's own text" in note
    assert "Wagtail's Checks panel counts every word" in note


# -- Offline ----------------------------------------------------------------------------------
@pytest.mark.django_db
def test_hints_work_with_the_network_disabled(monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("content hints tried to use the network")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket.socket, "connect_ex", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket, "getaddrinfo", no_network)
    import nltk

    # textstat's English syllable counter would look for cmudict, then download it.
    monkeypatch.setattr(nltk, "download", no_network)
    monkeypatch.setattr(nltk.data, "find", no_network)
    for cached in (
        hints_text.count_syllables,
        hints_text.formula_for,
        hints_text._hyphenator,
    ):
        cached.cache_clear()

    english = analyse_content(EN_MEDIUM, "en", min_words=50)
    french = analyse_content(FR_MEDIUM, "fr", min_words=50)
    assert english.readability is not None
    assert french.readability is not None
    set_controller(controller_name="Example SAS", contact_email="dpo@example.com")
    page = make_landing_page(body=[("paragraph", RichText(EN_EASY))])
    assert page_hints(page, language="en").analysis.words > 100


def test_textstat_module_state_is_left_alone():
    import textstat

    before = textstat.textstat._textstatistics__lang
    analyse_content(FR_MEDIUM, "fr", min_words=50)
    analyse_content(EN_MEDIUM, "en", min_words=50)
    assert textstat.textstat._textstatistics__lang == before
