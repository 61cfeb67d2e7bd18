"""A deterministic news-like corpus of any size, with questions and the article answering each: the
benchmark's corpus, and a BEIR-format question set (`python -m assistant.library.synthetic OUT`).

Every article is generated from a seeded random source out of names, cities, topics and filler
sentences, so the same call gives the same corpus on every machine; nothing is downloaded.
"""

from __future__ import annotations

import argparse
import json
import random
from dataclasses import dataclass
from pathlib import Path

from assistant.config import Settings
from assistant.library.chunking import split_article
from assistant.library.corpus import Article

DEFAULT_QUESTIONS = 200
SEED = 20261128

FIRST = (
    "Anna Marco Lena Tomas Sofia Jonas Elena Pavel Mira Omar Ines Karl Lucia Viktor Noor Felix Hana Diego "
    "Petra Yusuf Clara Ivan Amara Leon Nadia Emil Sara Bruno Aylin Oskar"
).split()
LAST = ("Keller Rossi Novak Berg Laurent Haddad Silva Kowalski Jensen Moreau Costa Weber Petrov Okafor "
        "Lindqvist Demir Horvat Romero Fischer Dubois Nakamura Brandt Varga Moretti Olsen Sato Mendes "
        "Kaya Richter Popescu").split()  # fmt: skip
CITIES = ("Brussels Vienna Lisbon Warsaw Oslo Athens Prague Dublin Madrid Helsinki Riga Zagreb Sofia "
          "Tallinn Valletta Ljubljana Bratislava Vilnius Bern Copenhagen").split()  # fmt: skip
TOPICS = ("energy prices", "grain exports", "border controls", "rail links", "fishing quotas",
          "steel tariffs", "water rights", "digital taxes", "air defence", "refugee housing",
          "port security", "bank rules", "vaccine supplies", "road tolls", "space research")  # fmt: skip
ROLES = ("foreign minister", "trade minister", "mayor", "central bank governor", "energy commissioner",
         "opposition leader", "defence minister", "union leader", "prime minister", "ambassador")  # fmt: skip
FILLER = (
    "Officials described the talks as constructive but said several questions remained open.",
    "Analysts expect the negotiations to continue well into the next quarter.",
    "The proposal drew criticism from business groups and environmental campaigners alike.",
    "Both sides agreed to publish a joint statement after the meeting.",
    "Previous rounds of talks had ended without an agreement on the main points.",
    "Local newspapers reported that protesters gathered outside the conference venue.",
    "A spokesperson declined to comment on the details of the draft text.",
    "The government said it would present a revised plan to parliament within weeks.",
    "Observers noted that the timing of the visit was closely linked to upcoming elections.",
    "Experts warned that costs could rise sharply if no compromise is found.",
)  # fmt: skip


@dataclass
class Corpus:
    articles: list[Article]
    questions: list[str]
    chunks: int
    relevant: dict[str, str]  # question -> doc_id of the article that answers it


def synthetic_corpus(
    chunks: int, questions: int = DEFAULT_QUESTIONS, settings: Settings | None = None
) -> Corpus:
    """Deterministic news-like articles until the corpus holds at least `chunks` chunks."""
    settings = settings or Settings()
    rng = random.Random(SEED)
    articles: list[Article] = []
    facts: dict[str, str] = {}
    total = 0
    while total < chunks:
        article, article_questions = _article(rng, len(articles))
        articles.append(article)
        facts.update(dict.fromkeys(article_questions, article.doc_id))
        total += len(split_article(article, chunk_tokens=settings.chunk_tokens,
                                   overlap_tokens=settings.chunk_overlap_tokens))  # fmt: skip
    picked = random.Random(SEED + 1).sample(sorted(facts), min(questions, len(facts)))
    return Corpus(articles, picked, total, {q: facts[q] for q in picked})


def _article(rng: random.Random, number: int) -> tuple[Article, list[str]]:
    host = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
    guest = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
    city, topic = rng.choice(CITIES), rng.choice(TOPICS)
    host_role, guest_role = rng.choice(ROLES), rng.choice(ROLES)
    day = rng.randint(1, 28)
    amount = rng.randint(2, 90) * 10
    title = f"{host} and {guest} discuss {topic} in {city}"
    sections = [
        [
            f"{host}, the {host_role}, met {guest}, the {guest_role}, in {city} on {day} March.",
            f"The two sides discussed {topic} for several hours behind closed doors.",
            f"{guest} said an agreement on {topic} was possible before the summer.",
        ],
        [
            f"According to the draft, {amount} million euros would be set aside for {topic}.",
            f"{host} argued that the money should come from existing budgets.",
            f"Critics in {city} said the sum was far too small.",
        ],
        [
            f"{guest} is expected to travel to {rng.choice(CITIES)} next week for further talks.",
            f"A final decision on {topic} will be taken by the full cabinet.",
        ],
    ]
    headings = ["The meeting", "The money", "What comes next"]
    paragraphs = [title, ""]
    for heading, sentences in zip(headings, sections, strict=True):
        body = sentences + rng.sample(FILLER, rng.randint(2, 5))
        rng.shuffle(body)
        paragraphs += [heading, " ".join(body), ""]
    questions = [
        f"Whom did {host} meet in {city}?",
        f"How much money would be set aside for {topic} according to the draft agreed in {city}?",
        f"Where will {guest} travel next week after the talks on {topic}?",
        f"What did {guest} say about an agreement on {topic}?",
    ]
    text = "\n".join(paragraphs).strip()
    return Article(
        doc_id=f"synthetic/{number:06d}.txt", text=text, title=title, source="Synthetic Wire"
    ), questions


def write_beir(corpus: Corpus, folder: Path) -> None:
    """The corpus as a BEIR folder: corpus.jsonl, queries.jsonl and qrels/test.tsv."""
    (folder / "qrels").mkdir(parents=True, exist_ok=True)
    with (folder / "corpus.jsonl").open("w") as out:
        for a in corpus.articles:
            out.write(json.dumps({"_id": a.doc_id, "title": a.title, "text": a.text}) + "\n")
    with (folder / "queries.jsonl").open("w") as out:
        for number, question in enumerate(corpus.questions):
            out.write(json.dumps({"_id": f"q{number}", "text": question}) + "\n")
    with (folder / "qrels" / "test.tsv").open("w") as out:
        out.write("query-id\tcorpus-id\tscore\n")
        for number, question in enumerate(corpus.questions):
            out.write(f"q{number}\t{corpus.relevant[question]}\t1\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m assistant.library.synthetic", description=__doc__.splitlines()[0]
    )
    parser.add_argument("out", type=Path, help="folder to write the BEIR files to")
    parser.add_argument("--chunks", type=int, default=1000, help="corpus size in chunks")
    parser.add_argument("--questions", type=int, default=DEFAULT_QUESTIONS)
    args = parser.parse_args(argv)
    corpus = synthetic_corpus(args.chunks, args.questions)
    write_beir(corpus, args.out)
    print(f"{len(corpus.articles)} articles ({corpus.chunks} chunks), {len(corpus.questions)} questions "
          f"in {args.out}")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
