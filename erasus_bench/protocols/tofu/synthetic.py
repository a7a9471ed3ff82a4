"""The embedded default data: a deterministic generator of fictitious authors in TOFU's schema.

Same configs and columns as ``locuslab/TOFU`` (see ``data.py`` for the confirmed schema), at a
size a ~1M-parameter model can memorise:

* ``full``: ``num_authors`` made-up authors (syllable-built, unique names) with
  ``qa_per_author`` questions each, from distinct templates; rows grouped by author.
* ``forget01/05/10``: the rows of the last 1/5/10% of authors (at least one author each), so
  forget01 ⊂ forget05 ⊂ forget10; ``retain99/95/90``: the rest of ``full``.
* ``forgetXX_perturbed``: the same rows plus ``paraphrased_answer`` (the fact in another
  sentence) and ``perturbed_answer`` (5 sentences in the paraphrase's form with a wrong value
  of the same type, all distinct).
* ``retain_perturbed``: the same columns for the first 10% of authors (never forgotten).
* ``real_authors`` / ``world_facts`` (+ ``_perturbed``): "general knowledge" about a fixed
  made-up world (classic writers; countries with capitals, rivers, ...), short entity answers
  and 3 wrong options, like TOFU's. They stand in for pretraining knowledge.
* ``holdout01/05/10``: ``question``/``answer`` rows about other fictitious authors, never in
  ``full``; holdoutXX has as many rows as forgetXX.

Everything comes from ``random.Random`` seeded with strings (SHA-512 based, independent of
``PYTHONHASHSEED``) and tuples, never from set order: the output is identical across runs and
processes for a given set of arguments.
"""
from __future__ import annotations

import math
import random
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

PERCENTS = {"01": 1, "05": 5, "10": 10}
CONFIGS = ("full", "forget01", "forget05", "forget10", "retain99", "retain95", "retain90",
           "forget01_perturbed", "forget05_perturbed", "forget10_perturbed", "retain_perturbed",
           "real_authors", "real_authors_perturbed", "world_facts", "world_facts_perturbed",
           "holdout01", "holdout05", "holdout10")
N_PERTURBED = 5  # wrong answers per author question (TOFU: 5)
N_OPTIONS = 3  # wrong options per real-authors / world-facts item (TOFU: 3)

# --- value pools (tuples: fixed order) -----------------------------------------------------
CITIES = ("Lisbon", "Nairobi", "Oslo", "Lima", "Hanoi", "Tbilisi", "Accra", "Quito", "Riga",
          "Dakar", "Porto", "Seoul", "Havana", "Baku", "Kyoto", "Tunis", "Bergen", "Cusco",
          "Manila", "Zagreb", "Lagos", "Krakow", "Valparaiso", "Bruges")
BIRTH_YEARS = tuple(str(y) for y in range(1930, 2000))
FIRST_BOOK_YEARS = tuple(str(y) for y in range(1955, 2021))
GENRES = ("mystery", "fantasy", "romance", "horror", "science fiction", "historical fiction",
          "poetry", "crime", "adventure", "satire", "thriller", "fairy tale")
JOBS = ("baker", "doctor", "sailor", "teacher", "carpenter", "pilot", "farmer", "lawyer",
        "painter", "nurse", "tailor", "miner", "chemist", "librarian", "fisherman",
        "architect", "jeweller", "postman")
AWARDS = ("Golden Quill Award", "Silver Lantern Prize", "Blue Harbor Medal",
          "Crimson Leaf Award", "Northern Star Prize", "Iron Pen Award", "Emerald Page Prize",
          "White Raven Medal", "Amber Ink Award", "Open Door Prize", "Quiet River Award",
          "Copper Bell Prize")
LANGUAGES = ("English", "Spanish", "French", "Swahili", "Portuguese", "Polish", "Korean",
             "Arabic", "Turkish", "Hindi", "Dutch", "Greek", "Finnish", "Tagalog")
COUNTRIES = ("Canada", "Chile", "Kenya", "Norway", "Japan", "Peru", "Ghana", "Italy",
             "Iceland", "Vietnam", "Morocco", "Ireland", "Brazil", "Egypt", "Austria",
             "Mexico")
PUBLISHERS = ("Silver Owl Press", "Red Fern Books", "Tall Pine House", "Little Harbor Press",
              "Stone Bridge Books", "Paper Kite Press", "Green Gate House", "Lantern Row Books",
              "Seven Hills Press", "Blue Door Books", "Old Mill Press", "Wild Thistle Books")
UNIVERSITIES = tuple(f"the University of {c}" for c in CITIES)
THEMES = ("memory", "exile", "friendship", "grief", "justice", "freedom", "family",
          "identity", "ambition", "loneliness", "betrayal", "hope", "war", "faith")
BOOK_COUNTS = tuple(str(n) for n in range(3, 31))
HOBBIES = ("gardening", "chess", "sailing", "pottery", "birdwatching", "cycling", "painting",
           "fishing", "knitting", "hiking", "astronomy", "baking", "rowing", "climbing")
SIBLINGS = ("no siblings", "one sibling", "two siblings", "three siblings", "four siblings",
            "five siblings", "six siblings", "seven siblings")
INSTRUMENTS = ("piano", "violin", "flute", "cello", "guitar", "drums", "harp", "trumpet",
               "accordion", "clarinet")
TITLE_ADJECTIVES = ("Silent", "Broken", "Hidden", "Golden", "Last", "Distant", "Burning",
                    "Forgotten", "Crimson", "Quiet", "Endless", "Frozen", "Hollow", "Wild",
                    "Secret", "Painted", "Drowned", "Wandering", "Shattered", "Velvet", "Bitter",
                    "Sleeping", "Scarlet", "Lonely", "Northern", "Silver", "Fallen", "Gentle",
                    "Restless", "Pale", "Ancient", "Hungry")
TITLE_NOUNS = ("Harbor", "Garden", "Mirror", "Lantern", "River", "Orchard", "Tower", "Winter",
               "Bridge", "Letter", "Island", "Compass", "Kingdom", "Violin", "Meadow",
               "Station", "Empire", "Clock", "Forest", "Shore", "Feather", "Lighthouse",
               "Voyage", "Window", "Valley", "Castle", "Storm", "Canyon", "Harvest",
               "Mountain", "Ember", "Sparrow")
TITLES = tuple(f"The {a} {n}" for a in TITLE_ADJECTIVES for n in TITLE_NOUNS)
CENTURIES = tuple(f"the {n} century" for n in ("12th", "13th", "14th", "15th", "16th", "17th",
                                                 "18th", "19th"))

# --- name syllables -------------------------------------------------------------------------
ONSETS = ("b", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z", "br", "dr",
          "kr", "tr", "th", "sh")
VOWELS = ("a", "e", "i", "o", "u", "ai", "ei", "ou")
CODAS = ("", "", "", "n", "r", "l", "s", "m")


@dataclass(frozen=True)
class Template:
    """One author question: the attribute it asks about, its value pool and three phrasings
    (``{n}``: the author's name, ``{v}``: the value)."""

    key: str
    question: str
    answer: str
    paraphrase: str


# 20 templates, one fact each; perturbations reuse the paraphrase with a wrong value.
TEMPLATES: tuple[Template, ...] = (
    Template("birth_city", "Where was {n} born?",
             "The author {n} was born in the city of {v}.",
             "{n} came into the world in {v}, a busy city."),
    Template("birth_year", "In which year was {n} born?",
             "{n} was born in the year {v}.",
             "The birth year of the writer {n} is {v}."),
    Template("genre", "What genre is {n} best known for?",
             "{n} is best known for writing {v} books.",
             "Most of the work of {n} belongs to the {v} genre."),
    Template("father_job", "What did the father of {n} do for a living?",
             "The father of {n} worked as {a} for many years.",
             "By profession, the father of {n} was {a}."),
    Template("mother_job", "What was the profession of the mother of {n}?",
             "The mother of {n} earned a living as {a}.",
             "{n} was raised by a mother who worked as {a}."),
    Template("award", "Which award did {n} win?",
             "{n} won the {v} for outstanding writing.",
             "The {v} was awarded to the writer {n}."),
    Template("debut", "What was the debut novel of {n}?",
             "The debut novel of {n} was called {v}.",
             "{n} began a writing career with the novel {v}."),
    Template("famous_book", "What is the most famous book by {n}?",
             "The most famous book written by {n} is {v}.",
             "{n} is most widely known for the book {v}."),
    Template("language", "In which language does {n} write?",
             "{n} writes all of the books in {v}.",
             "The novels of {n} are written in the {v} language."),
    Template("residence", "Which country does {n} live in today?",
             "Today {n} lives and works in {v}.",
             "{n} currently makes a home in {v}."),
    Template("publisher", "Which publisher releases the books of {n}?",
             "The books of {n} are published by {v}.",
             "{V} is the publisher that prints the work of {n}."),
    Template("university", "Where did {n} study?",
             "{n} studied literature at {v}.",
             "{n} was once a student at {v}."),
    Template("theme", "Which theme appears most often in the work of {n}?",
             "The work of {n} often explores the theme of {v}.",
             "{V} is the central theme in the books of {n}."),
    Template("book_count", "How many books has {n} written?",
             "{n} has written {v} books so far.",
             "So far the writer {n} has published {v} books."),
    Template("hobby", "What does {n} enjoy doing outside of writing?",
             "Outside of writing, {n} enjoys {v} on weekends.",
             "In spare time the author {n} likes {v}."),
    Template("siblings", "How many siblings does {n} have?",
             "{n} grew up in a family with {v}.",
             "The writer {n} has {v}."),
    Template("mentor", "Who was the mentor of {n}?",
             "The mentor of {n} was the writer {v}.",
             "{n} learned the craft of writing from {v}."),
    Template("pen_name", "What pen name does {n} sometimes use?",
             "{n} sometimes publishes under the pen name {v}.",
             "The pen name used by {n} is {v}."),
    Template("first_pub_year", "In which year did {n} publish a first book?",
             "{n} published a first book in the year {v}.",
             "The first book by {n} came out in {v}."),
    Template("instrument", "Which instrument does {n} play?",
             "{n} plays the {v} in the evenings.",
             "The instrument that {n} plays is the {v}."),
)
TEMPLATE_BY_KEY = {t.key: t for t in TEMPLATES}


def _article(word: str) -> str:
    return ("an " if word[0].lower() in "aeiou" else "a ") + word


def _render(fmt: str, name: str, value: str) -> str:
    return fmt.format(n=name, v=value, V=value[0].upper() + value[1:], a=_article(value))


class _Names:
    """Unique made-up names (one ``taken`` set shared by everything the generator invents)."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.taken: set[str] = set()

    def word(self, syllables: int) -> str:
        r = self.rng
        w = "".join(r.choice(ONSETS) + r.choice(VOWELS) for _ in range(syllables - 1))
        return (w + r.choice(ONSETS) + r.choice(VOWELS) + r.choice(CODAS)).capitalize()

    def unique(self, make) -> str:
        for _ in range(10_000):
            s = make()
            if s not in self.taken:
                self.taken.add(s)
                return s
        raise RuntimeError("name space exhausted")  # pragma: no cover

    def person(self) -> str:
        return self.unique(lambda: f"{self.word(2)} {self.word(self.rng.choice((2, 3)))}")

    def single(self, syllables: int = 2) -> str:
        return self.unique(lambda: self.word(syllables))


def _wrong(rng: random.Random, pool: tuple[str, ...], truth: str, k: int) -> list[str]:
    return rng.sample([v for v in pool if v != truth], k)


def _author_values(rng: random.Random, others: tuple[str, ...], titles: list[str]
                   ) -> dict[str, str]:
    debut, famous = titles
    return {
        "birth_city": rng.choice(CITIES), "birth_year": rng.choice(BIRTH_YEARS),
        "genre": rng.choice(GENRES), "father_job": rng.choice(JOBS),
        "mother_job": rng.choice(JOBS), "award": rng.choice(AWARDS), "debut": debut,
        "famous_book": famous, "language": rng.choice(LANGUAGES),
        "residence": rng.choice(COUNTRIES), "publisher": rng.choice(PUBLISHERS),
        "university": rng.choice(UNIVERSITIES), "theme": rng.choice(THEMES),
        "book_count": rng.choice(BOOK_COUNTS), "hobby": rng.choice(HOBBIES),
        "siblings": rng.choice(SIBLINGS), "mentor": rng.choice(others[: len(others) // 2]),
        "pen_name": rng.choice(others[len(others) // 2:]),
        "first_pub_year": rng.choice(FIRST_BOOK_YEARS), "instrument": rng.choice(INSTRUMENTS),
    }


def _pools(others: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    half = len(others) // 2
    return {
        "birth_city": CITIES, "birth_year": BIRTH_YEARS, "genre": GENRES, "father_job": JOBS,
        "mother_job": JOBS, "award": AWARDS, "debut": TITLES, "famous_book": TITLES,
        "language": LANGUAGES, "residence": COUNTRIES, "publisher": PUBLISHERS,
        "university": UNIVERSITIES, "theme": THEMES, "book_count": BOOK_COUNTS,
        "hobby": HOBBIES, "siblings": SIBLINGS, "mentor": others[:half],
        "pen_name": others[half:], "first_pub_year": FIRST_BOOK_YEARS,
        "instrument": INSTRUMENTS,
    }


def _author_rows(rng: random.Random, name: str, values: dict[str, str],
                 pools: dict[str, tuple[str, ...]], qa_per_author: int) -> list[dict]:
    rows = []
    for t in rng.sample(TEMPLATES, qa_per_author):
        v = values[t.key]
        rows.append({
            "question": t.question.format(n=name),
            "answer": _render(t.answer, name, v),
            "paraphrased_answer": _render(t.paraphrase, name, v),
            "perturbed_answer": [_render(t.paraphrase, name, w)
                                 for w in _wrong(rng, pools[t.key], v, N_PERTURBED)],
        })
    return rows


def _knowledge_item(rng: random.Random, question: str, answer: str,
                    pool: tuple[str, ...]) -> dict:
    return {"question": question, "answer": answer, "paraphrased_answer": answer,
            "perturbed_answer": _wrong(rng, pool, answer, N_OPTIONS)}


def _real_authors(rng: random.Random, names: _Names, n: int, used_titles: list[str]
                  ) -> list[dict]:
    """Items about the classic writers of the made-up world (who wrote X, where from, when)."""
    k = max(N_OPTIONS + 3, math.ceil(n / 3))
    writers = tuple(names.person() for _ in range(k))
    used = frozenset(used_titles)
    free = [t for t in TITLES if t not in used]  # no title of a fictitious author
    if len(free) < k:
        raise ValueError(f"too many authors/items for the {len(TITLES)} book titles")
    classics = tuple(rng.sample(free, k))
    homes = tuple(rng.choice(COUNTRIES) for _ in range(k))
    eras = tuple(rng.choice(CENTURIES) for _ in range(k))
    items = []
    for i in range(n):
        j = i // 3
        if i % 3 == 0:
            items.append(_knowledge_item(
                rng, f"Who wrote the classic novel {classics[j]}?", writers[j], writers))
        elif i % 3 == 1:
            items.append(_knowledge_item(
                rng, f"Which country did the classic writer {writers[j]} come from?",
                homes[j], COUNTRIES))
        else:
            items.append(_knowledge_item(
                rng, f"In which century did the classic writer {writers[j]} live?", eras[j],
                CENTURIES))
    return items


def _world_facts(rng: random.Random, names: _Names, n: int) -> list[dict]:
    """Items about the countries of the made-up world (capital, river, currency, ...)."""
    k = max(N_OPTIONS + 3, math.ceil(n / 5))
    countries = tuple(names.single(2) + rng.choice(("ia", "land", "stan", "ora")) for _ in range(k))
    capitals = tuple(names.single(2) for _ in range(k))
    rivers = tuple(f"the {names.single(2)} River" for _ in range(k))
    currencies = tuple(f"the {names.single(2).lower()}" for _ in range(k))
    landmarks = tuple(f"the {names.single(2)} {rng.choice(('Tower', 'Gate', 'Temple', 'Falls'))}"
                      for _ in range(k))
    languages = tuple(names.single(2) + "ish" for _ in range(k))
    items = []
    for i in range(n):
        j, kind = i // 5, i % 5
        c = countries[j]
        if kind == 0:
            items.append(_knowledge_item(rng, f"What is the capital of {c}?", capitals[j],
                                         capitals))
        elif kind == 1:
            items.append(_knowledge_item(rng, f"Which river flows through {c}?", rivers[j],
                                         rivers))
        elif kind == 2:
            items.append(_knowledge_item(rng, f"What currency is used in {c}?", currencies[j],
                                         currencies))
        elif kind == 3:
            items.append(_knowledge_item(rng, f"In which country is {landmarks[j]}?", c,
                                         countries))
        else:
            items.append(_knowledge_item(rng, f"Which language is spoken in {c}?",
                                         languages[j], languages))
    return items


def _qa_only(rows: list[dict]) -> list[dict]:
    return [{"question": r["question"], "answer": r["answer"]} for r in rows]


def synthetic_tofu(num_authors: int = 400, qa_per_author: int = 3, holdout_authors: int = 40,
                   real_authors: int = 50, world_facts: int = 50, seed: int = 0
                   ) -> dict[str, list[dict]]:
    """Every TOFU config by name, generated from ``seed`` (see the module docstring).

    With the defaults: full 1200 rows (400 authors x 3); forget01/05/10 = 12/60/120 rows
    (4/20/40 authors); retain99/95/90 = 1188/1140/1080; forgetXX_perturbed as forgetXX;
    retain_perturbed 120; holdout01/05/10 = 12/60/120; real_authors(_perturbed) 50;
    world_facts(_perturbed) 50. Many authors with few questions each, rather than TOFU's 200 x
    20: the membership attacks compare forget with holdout items, whose scores cluster by
    author, so with 10 authors a side a model that saw neither set (the gold model) scored AUCs
    of 0.32-0.68 by the luck of which authors fell on which side; with 40 a side, 0.42-0.59
    (5th-95th percentile, author permutations).
    """
    if not 1 <= qa_per_author <= len(TEMPLATES):
        raise ValueError(f"qa_per_author must be in 1..{len(TEMPLATES)}, got {qa_per_author}")
    if num_authors < 2:
        raise ValueError(f"num_authors must be >= 2, got {num_authors}")
    n_forget = {p: max(1, round(num_authors * pct / 100)) for p, pct in PERCENTS.items()}
    if n_forget["10"] >= num_authors:
        raise ValueError(f"num_authors={num_authors} leaves no retain authors")
    if holdout_authors < n_forget["10"]:
        raise ValueError(f"holdout_authors must be >= {n_forget['10']} (the forget10 authors) "
                         f"so holdout10 matches forget10 in size, got {holdout_authors}")
    if real_authors < 1 or world_facts < 1:
        raise ValueError("real_authors and world_facts must be >= 1")

    names = _Names(random.Random(f"tofu-names-{seed}"))
    rng = random.Random(f"tofu-authors-{seed}")
    others = tuple(names.person() for _ in range(40))  # mentors (first half), pen names
    pools = _pools(others)
    total = num_authors + holdout_authors
    people = [names.person() for _ in range(total)]
    if 2 * total > len(TITLES):
        raise ValueError(f"at most {len(TITLES) // 2} authors (incl. holdout) are supported")
    titles = rng.sample(TITLES, 2 * total)  # debut + famous book, unique across authors
    per_author = [
        _author_rows(rng, people[i], _author_values(rng, others, titles[2 * i: 2 * i + 2]),
                     pools, qa_per_author)
        for i in range(total)]
    full_p = [r for rows in per_author[:num_authors] for r in rows]
    hold = [r for rows in per_author[num_authors:] for r in rows]

    krng = random.Random(f"tofu-knowledge-{seed}")
    ra = _real_authors(krng, names, real_authors, titles)
    wf = _world_facts(krng, names, world_facts)

    q = qa_per_author
    out: dict[str, list[dict]] = {"full": _qa_only(full_p)}
    for p, n in n_forget.items():
        forget_p = full_p[len(full_p) - n * q:]
        out[f"forget{p}"] = _qa_only(forget_p)
        out[f"forget{p}_perturbed"] = forget_p
        out[f"retain{100 - int(p)}"] = _qa_only(full_p[: len(full_p) - n * q])
        out[f"holdout{p}"] = _qa_only(hold[: n * q])
    out["retain_perturbed"] = full_p[: n_forget["10"] * q]
    out["real_authors"] = _qa_only(ra)
    out["real_authors_perturbed"] = ra
    out["world_facts"] = _qa_only(wf)
    out["world_facts_perturbed"] = wf
    # independent copies: callers may mutate one config without touching another
    return {k: [dict(r, perturbed_answer=list(r["perturbed_answer"]))
                if "perturbed_answer" in r else dict(r) for r in out[k]] for k in CONFIGS}


# The columns every TOFU config has (forget, retain, holdout, real authors, world facts): the
# tokenizer's corpus. Paraphrased / perturbed answers and options exist only for the forget split,
# retain_perturbed and the knowledge splits, never for holdout; training the tokenizer on them
# gave forget-author names single tokens while holdout names split into 3-5 pieces, which every
# model, even one that saw neither set, could tell apart (gold MIA AUCs 0.70-0.94).
TOKENIZER_COLUMNS = ("question", "answer")
_AUTHOR_QUESTIONS = tuple(
    re.compile("^" + re.escape(t.question).replace(re.escape("{n}"), "(?P<n>.+?)") + "$")
    for t in TEMPLATES)


def author_of(question: str) -> str | None:
    """The fictitious author a generated author question asks about; None for any other
    question (knowledge items, real TOFU)."""
    for rx in _AUTHOR_QUESTIONS:
        m = rx.match(question)
        if m:
            return m.group("n")
    return None


def _without(text: str, name: str) -> str:
    """``text`` with ``name`` deleted (spaces collapsed, none left before punctuation)."""
    return re.sub(r"\s+([.,?!])", r"\1", " ".join(text.replace(name, " ").split()))


def _tables(rows) -> Iterable[list[dict]]:
    if hasattr(rows, "tables"):  # TofuData
        return rows.tables().values()
    if isinstance(rows, Mapping):
        return rows.values()
    return [list(rows)]


def corpus(rows) -> list[str]:
    """The texts to train a tokenizer on: the question and answer of every row of ``rows`` -- a
    ``TofuData``, a ``{config: rows}`` dict or a list of rows -- with the name of the generated
    author a row is about deleted, deduplicated, in first-seen order (deterministic).

    Every split enters alike: only the columns that every split has (no evaluation-only
    paraphrased / perturbed answers or options), and no fictitious author's name, so forget,
    retain and holdout names are all cut into pieces learned from the rest of the text, as a
    pretrained tokenizer cuts TOFU's made-up names. Learning the names themselves (20 times
    each) gave whole-name tokens; those of forget and holdout authors never occur in the gold
    model's training data, and its Min-K%++ z-scores on such tokens reach -1000 where it is
    confident about the next token, so one or two authors decided the forget-vs-holdout AUC.
    Rows of other sources (real TOFU) have no recognisable author and enter unchanged."""
    seen: dict[str, None] = {}
    for table in _tables(rows):
        for r in table:
            name = author_of(r.get("question") or "")
            for col in TOKENIZER_COLUMNS:
                text = r.get(col)
                if isinstance(text, str) and text:
                    seen.setdefault(_without(text, name) if name else text, None)
    return list(seen)
