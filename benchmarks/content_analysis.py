"""Content analysis of a 5,000-word French page: target <= 50 ms median.

    .venv/bin/python benchmarks/content_analysis.py [--runs 30] [--words 5000]

Uses the test settings (an in-memory SQLite database, migrated first, not
timed) and builds an unsaved ``LandingPage`` whose body is a StreamField of rich text: a generated French text
of the requested length, with a subheading about every 250 words, paragraphs
of 60-120 words and sentences of 6-28 words. Words are drawn with Zipf's law
(frequency ~ 1/rank, as in real prose) from common French words followed by
4,000 made-up French-looking words, which gives about 1,300 distinct words in
5,000, like a real article.

Each run analyses a *new* text (another seed) with every syllable cache
emptied first (ours and pyphen's), i.e. what the first analysis of that text
in a fresh process costs once the modules are imported; then the same text
again, with warm caches, which is what the editor's live panel mostly sees.

Printed: the first call in the process (it imports textstat, hence NLTK, and
loads pyphen's French dictionary), then the median, p95 and max over the runs
of ``analyse_content(page, "fr")`` -- extraction from the StreamField,
counting, syllables, Kandel & Moles -- and of ``page_hints(page)`` without the
lead-generation checks that need a database. Target: median <= 50 ms for
``analyse_content``.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

COMMON = """
le la les un une des du de et à en dans pour par sur avec sans sous entre
vers chez mais ou donc car ni que qui quoi dont où ce cette ces son sa ses
leur leurs notre nos votre vos il elle ils elles nous vous on se ne pas plus
très bien aussi encore toujours déjà souvent parfois jamais ici alors ainsi
comme quand si est sont était être avoir a ont fait faire peut peuvent doit
doivent veut dire voir savoir prendre donner trouver mettre rester passer
venir aller page site contenu article guide lecteur visiteur client prospect
entreprise offre formulaire champ adresse courriel donnée données service
produit équipe marché vente achat question réponse solution problème besoin
idée exemple étape moment temps jour semaine mois année résultat objectif
stratégie action conversion lien bouton appel téléchargement livre blanc
newsletter campagne outil méthode conseil expert marque valeur qualité prix
coût budget projet simple clair court long utile précis concret important
nouveau grand petit premier dernier meilleur même autre chaque tout toute
tous plusieurs certain rapide facile gratuit complet détaillé pertinent
efficace possible nécessaire écrire lire comprendre expliquer montrer
proposer demander recevoir envoyer remplir cliquer partager mesurer
améliorer tester choisir répondre attirer convertir générer suivre garder
perdre gagner créer publier rédiger optimiser recherche moteur référencement
mot clé titre paragraphe phrase texte image lecture lisibilité longueur
format structure plan partie section sommaire
""".split()  # noqa: SIM905 - a word list reads best as text
SYLLABLES = """
ba be bi bo bu ca ce ci co cu da de di do du fa fe fi fo ga go la le li lo
lu ma me mi mo mu na ne ni no nu pa pe pi po pu ra re ri ro ru sa se si so
su ta te ti to tu va ve vi vo cha che chi pra pre pri tra tre tri bla ble
cla cle fla flo gra gre con com man men mon tion sion ment eur ique able
""".split()  # noqa: SIM905 - a word list reads best as text
ENDINGS = ["", "", "s", "e", "es", "er", "é", "ant"]


def made_up_word(rng: random.Random) -> str:
    return "".join(
        rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))
    ) + rng.choice(ENDINGS)


def vocabulary() -> tuple[list[str], list[float]]:
    rng = random.Random(2024)
    words = list(dict.fromkeys(COMMON + [made_up_word(rng) for _ in range(4000)]))
    weights = [1 / rank for rank in range(1, len(words) + 1)]
    return words, weights


VOCABULARY, WEIGHTS = vocabulary()


def sentence(rng: random.Random) -> str:
    words = rng.choices(VOCABULARY, WEIGHTS, k=rng.randint(6, 28))
    words[0] = words[0].capitalize()
    if len(words) > 12 and rng.random() < 0.5:
        words[len(words) // 2] += ","
    return " ".join(words) + rng.choice([".", ".", ".", " ?", " !"])


def french_html(total_words: int, seed: int) -> str:
    rng = random.Random(seed)
    parts: list[str] = []
    written = since_heading = 0
    while written < total_words:
        if since_heading >= 250 or not parts:
            heading = " ".join(rng.choice(COMMON) for _ in range(rng.randint(3, 6)))
            parts.append(f"<h2>{heading.capitalize()}</h2>")
            since_heading = 0
        paragraph: list[str] = []
        target = rng.randint(60, 120)
        count = 0
        while count < target and written + count < total_words:
            text = sentence(rng)
            paragraph.append(text)
            count += len(text.split())
        parts.append("<p>" + " ".join(paragraph) + "</p>")
        written += count
        since_heading += count
    return "".join(parts)


def make_page(html: str):
    from wagtail.rich_text import RichText

    from wagtail_leadgen.models import LandingPage

    return LandingPage(
        title="Guide",
        intro="Un guide complet pour écrire des contenus qui convertissent.",
        body=[("paragraph", RichText(html))],
    )


def timed(function, *args, **kwargs) -> tuple[float, object]:
    start = time.perf_counter()
    result = function(*args, **kwargs)
    return (time.perf_counter() - start) * 1000, result


def summary(label: str, samples: list[float]) -> None:
    samples = sorted(samples)
    p95 = samples[max(0, round(0.95 * len(samples)) - 1)]
    print(
        f"{label:<42} median {statistics.median(samples):6.1f} ms   "
        f"p95 {p95:6.1f} ms   max {samples[-1]:6.1f} ms   (n={len(samples)})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--words", type=int, default=5000)
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command

    # Pages look up their content type when instantiated: migrate the test
    # settings' in-memory SQLite database first (not timed).
    call_command("migrate", verbosity=0)
    from wagtail_leadgen.services import hints
    from wagtail_leadgen.services.hints import text

    page0 = make_page(french_html(args.words, 0))
    first_ms, analysis = timed(hints.analyse_content, page0, "fr")
    distinct = len(
        {w.lower() for w in text.WORD_RE.findall(hints.extract_content(page0).text)}
    )
    print(
        f"Text: {analysis.words} words ({distinct} distinct), {analysis.sentences} "
        f"sentences, {analysis.subheadings} subheadings, "
        f"Kandel & Moles {analysis.readability}"
    )
    print(f"{'first call (imports textstat, loads pyphen)':<42} {first_ms:6.1f} ms")

    fresh, warm, with_hints = [], [], []
    for run in range(1, args.runs + 1):
        page = make_page(french_html(args.words, run))
        text.count_syllables.cache_clear()
        text._hyphenator("fr").hd.cache.clear()
        ms, _ = timed(hints.analyse_content, page, "fr")
        fresh.append(ms)
        ms, _ = timed(hints.analyse_content, page, "fr")
        warm.append(ms)
        targets = hints.get_targets(page)
        ms, _ = timed(
            lambda page=page, targets=targets: hints.content_hints(
                hints.analyse_content(page, "fr"), targets
            )
        )
        with_hints.append(ms)

    summary("analyse_content, new text, cold caches", fresh)
    summary("analyse_content, same text, warm caches", warm)
    summary("analysis + content hints (no database)", with_hints)
    target = 50.0
    verdict = "OK" if statistics.median(fresh) <= target else "OVER TARGET"
    print(f"Target: median <= {target:.0f} ms for a new text -> {verdict}")


if __name__ == "__main__":
    main()
