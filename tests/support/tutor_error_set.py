"""A small hand-made set of learner sentences with their errors, for measuring the tutor's error detection.

Written for this project: typical A1-B2 learner errors (one or two per sentence) and correct sentences that look
like errors to careless rules (questions, 'if he were', compounds, 'an hour'). Each error is (learner text, a correct
replacement, error type). `python -m tests.support.tutor_error_set` prints precision and recall with the real SmolLM2.
"""

from __future__ import annotations

import time

ERRORS: list[tuple[str, list[tuple[str, str, str]]]] = [
    ("He like fish very much.", [("like", "likes", "subject-verb agreement")]),
    ("She have two brothers.", [("have", "has", "subject-verb agreement")]),
    ("My sister play tennis every day.", [("play", "plays", "subject-verb agreement")]),
    ("They was very happy at the party.", [("was", "were", "subject-verb agreement")]),
    ("He don't know the answer.", [("do", "does", "subject-verb agreement")]),
    ("The children plays football after school.", [("plays", "play", "subject-verb agreement")]),
    ("I is a student.", [("is", "am", "subject-verb agreement")]),
    ("Tom like pizza.", [("like", "likes", "subject-verb agreement")]),
    ("My father work in a bank.", [("work", "works", "subject-verb agreement")]),
    ("We goes to the park on Sundays.", [("goes", "go", "subject-verb agreement")]),
    ("I go to school yesterday.", [("go", "went", "verb tense")]),
    ("Last week we visit our grandmother.", [("visit", "visited", "verb tense")]),
    ("Yesterday I am very tired.", [("am", "was", "verb tense")]),
    ("Two years ago I live in Paris.", [("live", "lived", "verb tense")]),
    ("Yesterday I go to the park and play football.", [("go", "went", "verb tense"), ("play", "played", "verb tense")]),
    ("I buyed a new phone.", [("buyed", "bought", "verb form")]),
    ("He can swims very well.", [("swims", "swim", "verb form")]),
    ("I didn't went to the party.", [("went", "go", "verb form")]),
    ("Did you went to the cinema?", [("went", "go", "verb form")]),
    ("I want to went home.", [("went", "go", "verb form")]),
    ("She teached us English.", [("teached", "taught", "verb form")]),
    ("I am agree with you.", [("am agree", "agree", "verb form")]),
    ("I have three cat.", [("cat", "cats", "singular/plural noun")]),
    ("There are many book on the table.", [("book", "books", "singular/plural noun")]),
    ("I have two childs.", [("childs", "children", "singular/plural noun")]),
    ("We stayed there for five day.", [("day", "days", "singular/plural noun")]),
    ("I eat a apple every morning.", [("a", "an", "article")]),
    ("She is an good teacher.", [("an", "a", "article")]),
    ("It was a interesting film.", [("a", "an", "article")]),
    ("He is more taller than me.", [("more taller", "taller", "comparative")]),
    ("I am good in math.", [("in", "at", "preposition")]),
    ("I am interested on history.", [("on", "in", "preposition")]),
    ("I listen music every day.", [("listen", "listen to", "preposition")]),
    ("She is married with a doctor.", [("with", "to", "preposition")]),
    ("My birthday is in Monday.", [("in", "on", "preposition")]),
    ("I am afraid from dogs.", [("from", "of", "preposition")]),
    ("My freind is very nice.", [("freind", "friend", "spelling")]),
    ("The city is very beatiful.", [("beatiful", "beautiful", "spelling")]),
    ("I like it becuase it is fun.", [("becuase", "because", "spelling")]),
    ("I have alot of homework.", [("alot", "a lot", "spelling")]),
    ("My famly is big.", [("famly", "family", "spelling")]),
    ("The wheather is nice today.", [("wheather", "weather", "spelling")]),
    ("i like music.", [("i", "I", "capitalisation")]),
    ("She is taller then her brother.", [("then", "than", "word choice")]),
    ("I like cats and my sister likes them to.", [("to", "too", "word choice")]),
    ("My brother like football and he play every day.", [
        ("like", "likes", "subject-verb agreement"), ("play", "plays", "subject-verb agreement"),
    ]),
    ("I has a dog and it are very small.", [
        ("has", "have", "subject-verb agreement"), ("are", "is", "subject-verb agreement"),
    ]),
    ("Yesterday she buyed three book.", [("buyed", "bought", "verb form"), ("book", "books", "singular/plural noun")]),
]

CORRECT: list[str] = [
    "He likes fish very much.",
    "Does he like fish?",
    "Do they play football on Sundays?",
    "If he were rich, he would buy a boat.",
    "The school bus is late again.",
    "I think he went home yesterday.",
    "They have two dogs and a cat.",
    "My sister plays tennis every day.",
    "We listen to music in the car.",
    "She goes to a university in London.",
    "We waited for an hour.",
    "I want to go to the beach.",
    "I did my homework yesterday.",
    "It is a useful book.",
    "I have a lot of friends.",
    "Can you help me, please?",
    "My friends and I went to the cinema last night.",
    "I am good at drawing.",
    "The weather was terrible last week.",
    "She was born in 1990.",
    "I usually walk to work.",
    "Their house is bigger than ours.",
    "There is a new shop near my house.",
    "Yesterday I went to the park and played football.",
    "He has lived here for ten years.",
    "I would like a cup of tea.",
    "Let him go.",
    "My parents work in a hospital.",
    "I saw a movie about a European king.",
    "We will visit them next week.",
]


#: Written after the rules and margins were tuned on the sets above, and never tuned on: the honest figure.
HELD_OUT_ERRORS: list[tuple[str, list[tuple[str, str, str]]]] = [
    ("My mother cook dinner every evening.", [("cook", "cooks", "subject-verb agreement")]),
    ("The teacher give us a lot of homework.", [("give", "gives", "subject-verb agreement")]),
    ("It rain a lot in November.", [("rain", "rains", "subject-verb agreement")]),
    ("My parents lives in a small town.", [("lives", "live", "subject-verb agreement")]),
    ("We was late for the bus.", [("was", "were", "subject-verb agreement")]),
    ("She don't eat meat.", [("do", "does", "subject-verb agreement")]),
    ("Last summer we swim in the lake every day.", [("swim", "swam", "verb tense")]),
    ("Yesterday my brother break his arm.", [("break", "broke", "verb tense")]),
    ("Three days ago I see a fox in the garden.", [("see", "saw", "verb tense")]),
    ("Last night I watch a film with my family.", [("watch", "watched", "verb tense")]),
    ("She can speaks three languages.", [("speaks", "speak", "verb form")]),
    ("Does he works on Saturdays?", [("works", "work", "verb form")]),
    ("I must to finish my homework.", [("must to", "must", "verb form")]),
    ("We didn't saw the match.", [("saw", "see", "verb form")]),
    ("He runned to the station.", [("runned", "ran", "verb form")]),
    ("I writed a letter to my aunt.", [("writed", "wrote", "verb form")]),
    ("I bought four egg at the shop.", [("egg", "eggs", "singular/plural noun")]),
    ("There are many tree in the park.", [("tree", "trees", "singular/plural noun")]),
    ("She has two mans in her team.", [("mans", "men", "singular/plural noun")]),
    ("I saw a elephant at the zoo.", [("a", "an", "article")]),
    ("He is a honest man.", [("a", "an", "article")]),
    ("We waited for a hour.", [("a", "an", "article")]),
    ("This box is more heavier than that one.", [("more heavier", "heavier", "comparative")]),
    ("She is very good in drawing.", [("in", "at", "preposition")]),
    ("I am interested about science.", [("about", "in", "preposition")]),
    ("We arrived to the airport at six.", [("to", "at", "preposition")]),
    ("He is afraid from the dark.", [("from", "of", "preposition")]),
    ("My neighbour is very freindly.", [("freindly", "friendly", "spelling")]),
    ("I recieved your message.", [("recieved", "received", "spelling")]),
    ("We had a wonderfull time.", [("wonderfull", "wonderful", "spelling")]),
    ("Tommorow I have an exam.", [("Tommorow", "Tomorrow", "spelling")]),
    ("My english is not very good but i try.", [("i", "I", "capitalisation")]),
    ("My house is bigger then yours.", [("then", "than", "word choice")]),
]
HELD_OUT_CORRECT: list[str] = [
    "My mother cooks dinner every evening.",
    "Does your brother play the piano?",
    "Last summer we swam in the lake every day.",
    "She can speak three languages.",
    "I bought four eggs at the shop.",
    "He is an honest man.",
    "We arrived at the airport at six.",
    "The children were tired after the trip.",
    "Where did you buy that jacket?",
    "If I were you, I would call her.",
    "My sister and her husband live in Rome.",
    "Everyone likes the new teacher.",
    "The news was good.",
    "I have never been to Japan.",
    "They walked home because the bus was late.",
    "Would you like some more coffee?",
    "The film was better than the book.",
    "I usually go to bed at eleven.",
    "She gave me a lovely present for my birthday.",
    "We stayed at a hotel near the beach.",
]


def _measure(detector: object, items: list[tuple[str, list[tuple[str, str, str]]]], name: str) -> None:
    """Print precision and recall of the detector on one set."""
    tp = fp = fn = 0
    times = []
    for sentence, gold in items:
        start = time.perf_counter()
        found = detector.detect(sentence).errors  # type: ignore[attr-defined]
        times.append(time.perf_counter() - start)
        want = {(w, r) for w, r, _ in gold}
        got = {(e.text, e.suggestion) for e in found}
        tp, fp, fn = tp + len(got & want), fp + len(got - want), fn + len(want - got)
        for miss in sorted(want - got):
            print(f"  missed {miss} in {sentence!r}")
        for extra in sorted(got - want):
            print(f"  false  {extra} in {sentence!r}")
    times.sort()
    with_errors = sum(1 for _, g in items if g)
    print(f"{name}: {len(items)} sentences ({with_errors} with errors, {len(items) - with_errors} correct); "
          f"errors {tp + fn}: found {tp}, missed {fn}, false alarms {fp}")
    print(f"  precision {tp / max(1, tp + fp):.3f}  recall {tp / max(1, tp + fn):.3f}  "
          f"detection per sentence: median {times[len(times) // 2]:.3f} s, max {times[-1]:.3f} s")


def main() -> None:
    """Print precision and recall of the detector with the embedded model on both sets."""
    from agents.models.llamacpp import LlamaCppConfig, LlamaCppModel
    from agents.tutor.errors import ErrorDetector

    model = LlamaCppModel("smollm2-135m", LlamaCppConfig(n_ctx=2048))
    model.warm_up()
    detector = ErrorDetector(model)
    detector.detect("Warm up the scorer and the spelling vocabulary, my freind.")
    _measure(detector, [*ERRORS, *((s, []) for s in CORRECT)], "development set")
    _measure(detector, [*HELD_OUT_ERRORS, *((s, []) for s in HELD_OUT_CORRECT)], "held-out set")


if __name__ == "__main__":
    main()
