"""GLEU on tiny hand-computed cases, the JFLEG copy baseline, and correcting tokenised text."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from forge.bench.gleu import corpus_gleu, detokenise, draws, load_jfleg, retokenised, sentence_stats

JFLEG_DEV = Path(__file__).resolve().parents[2] / "shared" / "data" / "jfleg-dev"


def test_a_hypothesis_equal_to_its_reference_scores_100() -> None:
    assert corpus_gleu(["a b c d e f"], [["a b c d e g"]], ["a b c d e g"]) == pytest.approx(100.0)


def test_copying_the_source_is_penalised_for_the_ngrams_the_reference_changed() -> None:
    """src = hyp = a b c d e f, ref = a b c d e g: matches 5-1, 4-1, 3-1, 2-1 of 6, 5, 4, 3 n-grams."""
    source, reference = ["a", "b", "c", "d", "e", "f"], ["a", "b", "c", "d", "e", "g"]
    assert sentence_stats(source, source, reference) == [
        6, 6, 4, 6, 3, 5, 2, 4, 1, 3,
    ]  # fmt: skip
    expected = 100 * (4 / 6 * 3 / 5 * 2 / 4 * 1 / 3) ** 0.25
    assert corpus_gleu(["a b c d e f"], [["a b c d e g"]], ["a b c d e f"]) == pytest.approx(expected)


def test_a_short_hypothesis_pays_the_brevity_penalty() -> None:
    """All n-grams match, 5 tokens against a 6-token reference: exp(1 - 6/5)."""
    score = corpus_gleu(["a b c d e f"], [["a b c d e f"]], ["a b c d e"])
    assert score == pytest.approx(100 * math.exp(1 - 6 / 5))


def test_no_fourgram_match_gives_zero() -> None:
    assert corpus_gleu(["a b c"], [["a b c"]], ["x y z"]) == 0.0


def test_several_references_are_drawn_per_sentence_and_averaged() -> None:
    """Two references, one equal to the hypothesis: the mean lies between the two single-reference scores."""
    refs = ["a b c d e g", "a b c d e f"]
    one, other = (corpus_gleu(["a b c d e f"], [[r]], ["a b c d e g"]) for r in refs)
    both = corpus_gleu(["a b c d e f"], [refs], ["a b c d e g"])
    share = sum(d[0] == 0 for d in draws(1, 2)) / 500
    assert both == pytest.approx(share * one + (1 - share) * other)
    assert draws(3, 4, 2) == draws(3, 4, 2) and all(0 <= r < 4 for d in draws(5, 4) for r in d)


@pytest.mark.skipif(not JFLEG_DEV.is_dir(), reason="JFLEG dev is not on this machine")
def test_copying_jfleg_dev_scores_the_published_figure() -> None:
    data = load_jfleg(JFLEG_DEV)
    assert round(corpus_gleu(data.sources, data.references, data.sources), 2) == 38.21


def test_detokenise_keeps_each_tokens_span() -> None:
    text, spans = detokenise(["I", "do", "n't", "know", ",", "he", "said", "."])
    assert text == "I don't know, he said."
    assert [text[s:e] for s, e in spans] == ["I", "do", "n't", "know", ",", "he", "said", "."]


def test_retokenised_changes_only_the_edited_tokens() -> None:
    line = "He do n't like  it , i think ."

    def fix(text: str) -> list[tuple[tuple[int, int], str]]:
        assert text == "He don't like it, i think."
        return [((3, 5), "does"), ((18, 19), "I")]

    assert retokenised(line, fix, lambda t: t.replace("n't", " n't").split()) == "He does n't like it , I think ."
