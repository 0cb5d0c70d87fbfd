"""The level estimator: vendored weights, evidence, ordering of easy and hard text, bad input, the training maths."""

from __future__ import annotations

import json
from importlib.resources import files

import numpy as np
import pytest

from knowledge.build.train_level_model import detokenize, fit, metrics, soft_targets, softmax
from knowledge.errors import ResourceError, UserInputError
from knowledge.level_estimator import (
    FEATURE_NAMES,
    MAX_TEXT_CHARS,
    MODEL_FILE,
    LevelEstimator,
    LevelModel,
    line_features,
)
from knowledge.levels import Level

ESTIMATOR = LevelEstimator.default()
EASY = "I have a dog. The house is big."
HARD = (
    "Although the committee had initially endorsed the proposal, its subsequent deliberations revealed profound "
    "reservations about the feasibility of implementation."
)


def test_vendored_weights_are_plain_json_and_met_the_goals_in_cross_validation() -> None:
    data = json.loads((files("knowledge") / "data" / MODEL_FILE).read_text(encoding="utf-8"))
    model = LevelModel.from_dict(data)
    assert set(model.features) <= set(FEATURE_NAMES)
    cv = model.meta["cv_5fold_train"]
    assert cv["either_label"] >= 0.75 and cv["within_one_of_mean"] >= 0.92 and cv["per_level_either_label"] >= 0.60
    assert "Arase" in model.meta["training_data"]


def test_reference_sentences_still_get_the_probabilities_stored_at_training_time() -> None:
    reference = LevelModel.load().meta["reference"]
    assert len(reference) == 5
    for sentence, stored in reference.items():
        now = list(ESTIMATOR.estimate_sentence(sentence).probabilities.values())
        # A failure means tokenising, tagging or the word lists changed the model's inputs: retrain the weights.
        assert now == pytest.approx(stored, abs=0.02), sentence


def test_model_round_trip_and_corrupt_model_is_a_resource_error() -> None:
    model = LevelModel.load()
    again = LevelModel.from_dict(json.loads(json.dumps(model.to_dict())))
    assert again.features == model.features
    assert np.allclose(again.weights, model.weights, atol=1e-6)
    broken = model.to_dict() | {"weights": [[0.0] * 6]}
    with pytest.raises(ResourceError, match="inconsistent shapes"):
        LevelModel.from_dict(broken)
    with pytest.raises(ResourceError, match="not a valid level model"):
        LevelModel.from_dict({"features": ["words"]})


def test_easy_text_is_estimated_below_hard_text_with_probabilities() -> None:
    easy, hard = ESTIMATOR.estimate(EASY), ESTIMATOR.estimate(HARD)
    assert easy.level is not None and hard.level is not None
    assert easy.level.rank <= Level.A2.rank and hard.level.rank >= Level.B2.rank
    for estimate in (easy, hard):
        assert list(estimate.probabilities) == ["A1", "A2", "B1", "B2", "C1", "C2"]
        assert sum(estimate.probabilities.values()) == pytest.approx(1.0, abs=1e-3)
        assert estimate.probabilities[str(estimate.level)] == max(estimate.probabilities.values())
    assert easy.expected_rank is not None and hard.expected_rank is not None
    assert easy.expected_rank < hard.expected_rank


def test_every_word_and_construction_is_traceable() -> None:
    estimate = ESTIMATOR.estimate("My timid brother detests tedious lessons.")
    words = {w.text: w for w in estimate.words}
    assert words["timid"].level == Level.C1 and words["timid"].kind == "listed"
    assert words["timid"].node == "word:timid|adjective"
    assert "octanove" in words["timid"].evidence and "line" in words["timid"].evidence
    assert words["brother"].source == "CEFR-J Wordlist 1.5" and words["brother"].level == Level.A1
    assert estimate.constructions, "the grammar profile finds constructions"
    for c in estimate.constructions:
        assert c.node == f"grammar:{c.item_id}" and "CEFR-J Grammar Profile" in c.source
    sentence = estimate.sentences[0]
    assert sentence.features["words"] == 6 and sentence.features["vocab_max_rank"] == Level.C1.rank


def test_names_numbers_and_sentence_initial_capitals() -> None:
    estimate = ESTIMATOR.estimate("Slugs eat leaves. Tom has 3 slugs in London.")
    kinds = {w.text: w.kind for w in estimate.words}
    assert kinds["Tom"] == "name" and kinds["London"] == "name"
    assert kinds["Slugs"] != "name", "a capital at the start of a sentence does not make a name"
    assert "3" not in kinds, "numbers are not words"


def test_a_text_aggregates_its_sentences_by_word_weight() -> None:
    estimate = ESTIMATOR.estimate(f"{EASY} {HARD}")
    assert len(estimate.sentences) == 3
    sizes = np.array([len(s.words) for s in estimate.sentences], dtype=float)
    probs = np.array([[s.probabilities[k] for k in estimate.probabilities] for s in estimate.sentences])
    expected = (sizes[:, None] * probs).sum(0) / sizes.sum()
    assert np.allclose(list(estimate.probabilities.values()), expected, atol=2e-4)
    assert estimate.hardest == max((s.level for s in estimate.sentences if s.level), key=lambda lv: lv.rank)
    assert estimate.sentences[2].text == HARD and estimate.sentences[2].span[1] == len(f"{EASY} {HARD}")


def test_sentence_estimate_agrees_with_training_features() -> None:
    sentence = "The museum's art includes some of the region's most important cultural assets."
    estimate = ESTIMATOR.estimate_sentence(sentence)
    features = line_features(ESTIMATOR.lexicon, ESTIMATOR.grammar, sentence)
    assert estimate.features == pytest.approx(features, abs=1e-5)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [("", "empty"), ("   \n", "empty"), ("x" * (MAX_TEXT_CHARS + 1), "at most 20,000"),
     ("Hello\x00world", "binary"), ("bad \udcff bytes", "not valid UTF-8")],
)  # fmt: skip
def test_bad_input_is_one_clear_user_error(text: str, fragment: str) -> None:
    with pytest.raises(UserInputError, match=fragment):
        ESTIMATOR.estimate(text)


def test_a_megabyte_is_refused_and_bytes_are_not_text() -> None:
    with pytest.raises(UserInputError, match="characters; at most"):
        ESTIMATOR.estimate("All work and no play. " * 50_000)
    with pytest.raises(UserInputError, match="bytes"):
        ESTIMATOR.estimate(b"I like tea.")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "text",
    ["Der Hund ist sehr groß und die Katze ist klein.", "12345 67890", "Bonjour, je suis ici avec mes amis.", "!!!"],
)
def test_what_cannot_be_judged_is_unknown_with_the_reason(text: str) -> None:
    estimate = ESTIMATOR.estimate(text)
    assert estimate.level is None and estimate.probabilities == {}
    assert estimate.reason


def test_noun_heavy_english_is_still_english() -> None:
    assert ESTIMATOR.estimate("Rivers flow seaward; mountains erode slowly under persistent rain.").level is not None


def test_lines_give_one_estimate_each_and_never_raise() -> None:
    lines = ["I like tea.", "", "\x00\x01", "Der Hund ist sehr groß und die Katze ist klein.", "a" * 3000, "Go home."]
    results = list(ESTIMATOR.estimate_lines(lines))
    assert len(results) == len(lines)
    assert [r.level is not None for r in results] == [True, False, False, False, False, True]
    assert "empty" in results[1].reason and "binary" in results[2].reason and "2,000" in results[4].reason


# --- the training maths (knowledge/build/train_level_model.py) ------------------------------------------------


def test_metrics_reproduce_the_always_b1_baseline_by_hand() -> None:
    labels = np.array([[3, 3], [3, 4], [4, 5], [1, 1], [2, 3], [5, 6]])
    figures = metrics(np.full(6, 3), labels)
    assert figures["either_label"] == pytest.approx(3 / 6, abs=1e-4)
    # means 3, 3.5, 4.5, 1, 2.5, 5.5: within one of 3 are 3, 3.5 and 2.5
    assert figures["within_one_of_mean"] == pytest.approx(3 / 6, abs=1e-4)
    # groups (mean rounded half up): B1 {3,3 ; 2,3}, B2 {3,4}, C1 {4,5}, A1 {1,1}, C2 {5,6} -> 1, 1, 0, 0, 0
    assert figures["per_level_either_label"] == pytest.approx(2 / 5, abs=1e-4)


def test_newton_fit_learns_a_separable_problem_with_soft_targets() -> None:
    rng = np.random.default_rng(0)
    labels = rng.integers(1, 7, size=(300, 1)).repeat(2, axis=1)
    x = labels[:, :1] + rng.normal(0, 0.2, size=(300, 1))
    weights, bias = fit(x - x.mean(), soft_targets(labels), penalty=0.1)
    pred = np.argmax(softmax((x - x.mean()) @ weights + bias), axis=1) + 1
    assert (pred == labels[:, 0]).mean() > 0.95
    assert soft_targets(np.array([[2, 4]]))[0].tolist() == [0, 0.5, 0, 0.5, 0, 0]


def test_detokenize_restores_written_form() -> None:
    assert detokenize("The winner 's foot did n't move , it seems .") == "The winner's foot didn't move, it seems."
