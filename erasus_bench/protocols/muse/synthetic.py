"""The embedded default: invented news articles in MUSE-News' schema, generated deterministically.

Every article reports on an event in an invented town (nothing in it exists) in six of 36
differently worded sentences, in a drawn order, with its own resident, building, place and day,
and ends with a fact box of three "Question: ...\\nAnswer: ..." lines whose two-word answers
(the town's mayor, the charity that paid for repairs, the ship that brought supplies) the body
never states. The splits follow
``muse-bench/MUSE-News`` (configs and their splits):

* ``raw``: ``forget`` (the first deletion request), ``retain1``, ``retain2``, ``holdout``
  (never trained on);
* ``train``: ``forget`` (= ``scal/forget_4``: every article that is ever asked to be
  deleted), ``retain1``, ``retain2``: what the base model is trained on;
* ``verbmem/forget``: ``prompt`` (an article's first words, with the space after the last) and
  ``gt`` (the rest of its body, before the fact box);
* ``knowmem``: ``forget_qa`` / ``retain_qa`` (``question``, ``answer``: the fact-box lines of
  the forget / retain2 articles) and ``forget_qa_icl`` / ``retain_qa_icl`` (10 of those lines,
  one per article and of mixed kinds, set apart as the in-context examples);
* ``privleak``: ``forget``, ``retain``, ``holdout`` articles;
* ``scal``: ``forget_1..4``, nested (C5); ``sust``: ``forget_1..4``, disjoint (C6).

The fact box makes KnowMem a test of recalling stated facts for the embedded tiny model (which
cannot answer questions about text it has only read); MUSE's own questions need inference.
Everything comes from ``random.Random`` seeded with strings (independent of PYTHONHASHSEED).
"""
from __future__ import annotations

import random
from functools import cache

ARTICLES = 12  # per deletion request (forget = sust/forget_1)
REQUESTS = 4  # sust/scal splits
RETAIN_BLOCKS = (("retain1", 16), ("retain2", 16), ("holdout", 16))
SENTENCES_PER_ARTICLE = 6
PROMPT_WORDS = 12
ICL = 10

SYLLABLES = ("ba", "dor", "ke", "lin", "mo", "ra", "sul", "ti", "vek", "zan", "pho", "gre",
             "nal", "osk", "quil", "um", "fa", "hes", "jor", "wen", "cy", "bru", "tam", "ely")
EVENTS = ("flood", "festival", "strike", "fire", "election", "regatta", "blackout", "parade",
          "trial", "harvest fair", "bridge opening", "market crash")
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
THINGS = ("ferry", "library", "clock tower", "orchard", "tram line", "harbour wall", "mill",
          "observatory", "granary", "footbridge", "bathhouse", "lighthouse", "quarry", "market",
          "chapel", "boathouse", "school", "bakery", "tannery", "aqueduct", "stadium", "museum",
          "dock", "theatre")
ADJECTIVES = ("old", "narrow", "painted", "flooded", "famous", "crumbling", "busy", "quiet",
              "northern", "southern", "wooden", "stone", "copper", "empty", "crowded", "tall")
VERBS = ("closed", "damaged", "reopened", "inspected", "repaired", "guarded", "measured",
         "cleaned", "sealed", "visited", "photographed", "rebuilt")
# the body never states a fact-box answer (mayor, donor, ship): in training each answer
# follows its question with nothing earlier to copy it from, as in KnowMem's prompt. An article
# draws 6 of these 36 differently worded sentences in a random order and its own resident,
# building, place and day: a model that never read it shares few sentences in the same order
# with it and cannot copy the words it repeats from the prompt (its VerbMem stays low), while a
# model that read it has only the choice of sentences and four words to remember
SENTENCES = (
    "{resident} {verb} the {adj} {thing} near the {place} on {day}.",
    "Witnesses say {resident} ran towards the {thing} moments later.",
    "By {day} the {thing} had been {verb} twice.",
    "Shopkeepers beside the {place} of {town} lowered their shutters early.",
    "{resident} refused to comment when reporters called on {day}.",
    "Nobody could remember the {place} ever looking so {adj}.",
    "Photographs shared online showed smoke above the {thing}.",
    "A neighbour of {resident} described hearing a loud crack.",
    "Inspectors spent {n} hours examining the {adj} {thing}.",
    "The {place} of {town} reopened to pedestrians late on {day}.",
    "Radio {town} interrupted its programmes to describe the scene.",
    "Children were sent home from the school beside the {place}.",
    "{resident} has lived opposite the {thing} for {n} years.",
    "Several volunteers handed out blankets and soup until midnight.",
    "Engineers fear the {adj} {thing} may need to be demolished.",
    "Trains stopping near the {place} were delayed by {n} minutes.",
    "An insurance assessor is expected to visit on {day}.",
    "Fishermen watched from their boats as the {thing} was {verb}.",
    "The old signal box by the {place} lost its power entirely.",
    "{resident} urged everyone to stay away from the {place}.",
    "Councillors in {town} will debate emergency funding on {day}.",
    "Dogs barked across the valley for most of the evening.",
    "A temporary fence now surrounds the {adj} {thing}.",
    "Firefighters said the wind made their work much harder.",
    "The bakery owner offered free bread to anyone affected.",
    "Tourists gathered on the {place} to take pictures of the {thing}.",
    "An elderly couple were rescued from a flat above the {place}.",
    "{resident} thanked the rescue teams in a short speech.",
    "Water levels near the {place} fell slowly through {day}.",
    "The archive of {town} holds drawings of the {thing} from {n} years ago.",
    "Bells rang out from the chapel as crews finished their work.",
    "Several windows facing the {place} were cracked by the blast.",
    "A collection for families affected raised {n} crowns in a day.",
    "Most residents of {town} returned home by the evening of {day}.",
    "Students filmed the {adj} {thing} for a school project.",
    "The ferry service will resume once the {place} is declared safe.",
)
# fact-box answers: two words, each from a pool (a model that never read the article guesses a
# word right one time in 16)
FIRST_NAMES = ("Agnes", "Bruno", "Clara", "Dmitri", "Elsa", "Felix", "Greta", "Hugo", "Ines",
               "Jonas", "Karin", "Lukas", "Mira", "Nils", "Olga", "Pavel")
SURNAMES = ("Moreau", "Lindqvist", "Okafor", "Brandt", "Castell", "Duval", "Eriksen", "Ferraro",
            "Haddad", "Ivanova", "Jansen", "Kowal", "Lorenz", "Marsh", "Novak", "Petrov")
COLOURS = ("Amber", "Azure", "Crimson", "Golden", "Ivory", "Jade", "Scarlet", "Silver", "Violet",
           "Copper", "Indigo", "Ochre", "Russet", "Teal", "Umber", "Cobalt")
CREATURES = ("Heron", "Otter", "Falcon", "Badger", "Lynx", "Marten", "Osprey", "Wren", "Stag",
             "Raven", "Beaver", "Swan", "Hare", "Kestrel", "Pike", "Seal")
PLACES = ("river", "square", "station", "harbour", "bridge", "park", "hill", "canal", "gate",
          "barracks", "pier", "meadow", "forest", "crossroads", "cemetery", "airfield")
FACTS = (
    ("Who is the mayor of {town}?", "{mayor}"),
    ("Which charity paid for repairs after the {event} in {town}?", "{donor}"),
    ("Which ship brought supplies to {town} after the {event}?", "{ship}"),
)


def _name(rng: random.Random, parts: int) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(parts)).capitalize()


def _article(key: str) -> dict[str, str | list[tuple[str, str]]]:
    """One invented article: its text and its three fact-box question/answer pairs."""
    rng = random.Random(f"muse-article-{key}")
    slots = {"town": _name(rng, 3),
             "mayor": f"{rng.choice(FIRST_NAMES)} {rng.choice(SURNAMES)}",
             "donor": f"{rng.choice(COLOURS)} {rng.choice(CREATURES)}",
             "ship": f"{rng.choice(COLOURS)} {rng.choice(CREATURES)}", "event": rng.choice(EVENTS)}
    headline = f"{slots['town']} counts the cost of the {slots['event']}"
    body = []
    words = {"town": slots["town"], "resident": f"{_name(rng, 2)} {_name(rng, 2)}",
             "thing": rng.choice(THINGS),
             "place": rng.choice(PLACES), "day": rng.choice(DAYS), "adj": rng.choice(ADJECTIVES),
             "verb": rng.choice(VERBS)}
    for template in rng.sample(SENTENCES, SENTENCES_PER_ARTICLE):
        body.append(template.format(n=rng.randint(3, 990), **words))
    facts = [(q.format(**slots), a.format(**slots)) for q, a in FACTS]
    box = "\n\n".join(f"Question: {q}\nAnswer: {a}" for q, a in facts)
    return {"text": f"{headline}\n\n{' '.join(body)}\n\n{box}", "facts": facts}


@cache
def generate() -> dict[str, dict[str, list[dict[str, str]]]]:
    """Config -> split -> rows, in MUSE-News' schema (see the module docstring)."""
    parts = [[_article(f"request{j}-{i}") for i in range(ARTICLES)] for j in range(REQUESTS)]
    blocks = {name: [_article(f"{name}-{i}") for i in range(n)] for name, n in RETAIN_BLOCKS}

    def texts(articles: list[dict]) -> list[dict[str, str]]:
        return [{"text": a["text"]} for a in articles]

    def qa(articles: list[dict]) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
        """(questions: every fact of every article but the in-context ones, in-context
        examples: fact i mod 3 of article i < ICL, so that they mix the three kinds)."""
        icl = {(i, i % len(FACTS)) for i in range(min(ICL, len(articles)))}
        rows = {(i, f): {"question": a["facts"][f][0], "answer": a["facts"][f][1]}
                for i, a in enumerate(articles) for f in range(len(FACTS))}
        return ([r for k, r in rows.items() if k not in icl], [rows[k] for k in sorted(icl)])

    forget, ever = parts[0], [a for p in parts for a in p]
    verbmem = []
    for a in forget:
        words = a["text"].split("\n\nQuestion: ")[0].split(" ")  # headline and body
        verbmem.append({"prompt": " ".join(words[:PROMPT_WORDS]) + " ",
                        "gt": " ".join(words[PROMPT_WORDS:])})
    retain2 = blocks["retain2"]
    forget_qa, forget_icl = qa(forget)
    retain_qa, retain_icl = qa(retain2)
    return {
        "raw": {"forget": texts(forget), "retain1": texts(blocks["retain1"]),
                "retain2": texts(retain2), "holdout": texts(blocks["holdout"])},
        "train": {"forget": texts(ever), "retain1": texts(blocks["retain1"]),
                  "retain2": texts(retain2)},
        "verbmem": {"forget": verbmem},
        "knowmem": {"forget_qa": forget_qa, "retain_qa": retain_qa,
                    "forget_qa_icl": forget_icl, "retain_qa_icl": retain_icl},
        "privleak": {"forget": texts(forget), "retain": texts(blocks["retain1"][:ARTICLES]),
                     "holdout": texts(blocks["holdout"][:ARTICLES])},
        "scal": {f"forget_{k}": texts([a for p in parts[:k] for a in p])
                 for k in range(1, REQUESTS + 1)},
        "sust": {f"forget_{k}": texts(parts[k - 1]) for k in range(1, REQUESTS + 1)},
    }
