"""Offline NLP: tokenisation, sentences, the vendored perceptron tagger, lemmas, inflection, language check."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from knowledge import tagger as tagger_module
from knowledge.errors import ResourceError, UserInputError
from knowledge.nlp import (
    PENN_TAGS,
    UPOS_TAGS,
    Token,
    analyze,
    inflect,
    is_probably_english,
    lemmatize,
    penn_to_upos,
    sentences,
    word_tokens,
)
from knowledge.tagger import PerceptronTagger, default_tagger, features, load_model, normalize


def _triples(text: str) -> list[tuple[str, str, str]]:
    return [(t.text, t.tag, t.lemma) for t in analyze(text)]


def test_contractions_become_penn_tokens_with_lemmas() -> None:
    tokens = analyze("I don't think we can't, but I'm sure they won't.")
    assert [t.text for t in tokens] == [
        "I", "do", "n't", "think", "we", "ca", "n't", ",", "but", "I", "'m", "sure", "they", "wo", "n't", ".",
    ]  # fmt: skip
    by_text = {t.text: t for t in tokens}
    assert by_text["n't"].lemma == "not" and by_text["n't"].tag == "RB"
    assert by_text["ca"].lemma == "can" and by_text["ca"].tag == "MD"
    assert by_text["wo"].lemma == "will" and by_text["wo"].tag == "MD"
    assert by_text["'m"].lemma == "be" and by_text["'m"].upos == "AUX"


def test_offsets_slice_the_original_text_including_curly_apostrophes() -> None:
    text = "She’s gone—isn’t it odd?  “Yes” (really)."
    tokens = analyze(text)
    assert all(text[t.start : t.end] == t.text for t in tokens)
    assert [t.text for t in tokens][:3] == ["She", "’s", "gone"]
    assert next(t for t in tokens if t.text == "’s").lower == "'s"
    assert [t.index for t in tokens] == list(range(len(tokens)))


def test_hyphens_numbers_and_abbreviations_stay_whole() -> None:
    texts = [t.text for t in analyze("Mr. Smith paid $1,000.50 for a well-known book at 10:30 in the U.S. today.")]
    assert "Mr." in texts and "1,000.50" in texts and "well-known" in texts and "10:30" in texts
    assert "U.S." in texts and "$" in texts


def test_numbers_units_and_ordinals() -> None:
    tokens = [(t.text, t.tag) for t in analyze("It was 3.5km away in the 1990s, the 21st of May, 1,000.")]
    assert ("3.5", "CD") in tokens and tokens[tokens.index(("3.5", "CD")) + 1][0] == "km"
    assert ("1990s", "CD") in tokens and "21st" in {text for text, _ in tokens}
    assert tokens[-2:] == [("1,000", "CD"), (".", ".")]


def test_long_texts_are_analysed_without_caching() -> None:
    text = "The cat sleeps. " * 2000
    assert len(analyze(text)) == 8000 and analyze(text)[-1].sentence == 1999


def test_sentence_splitting() -> None:
    text = 'Mr. Brown arrived at 5 p.m. He said "Hi!" Then he left... Did she stay? Yes.\n\nNew paragraph here'
    assert sentences(text) == [
        "Mr. Brown arrived at 5 p.m.", 'He said "Hi!"', "Then he left...", "Did she stay?", "Yes.",
        "New paragraph here",
    ]  # fmt: skip
    assert sentences("So do I. Then J. K. Rowling wrote it.") == ["So do I.", "Then J. K. Rowling wrote it."]
    assert sentences("") == []
    assert sentences("Wait... what happened?") == ["Wait... what happened?"]


def test_tags_and_universal_pos_on_a_plain_sentence() -> None:
    tokens = analyze("The children were playing happily in the big garden.")
    assert [(t.tag, t.upos) for t in tokens] == [
        ("DT", "DET"), ("NNS", "NOUN"), ("VBD", "AUX"), ("VBG", "VERB"), ("RB", "ADV"), ("IN", "ADP"),
        ("DT", "DET"), ("JJ", "ADJ"), ("NN", "NOUN"), (".", "PUNCT"),
    ]  # fmt: skip
    assert [t.lemma for t in tokens][:4] == ["the", "child", "be", "play"]
    assert all(t.tag in PENN_TAGS and t.upos in UPOS_TAGS for t in tokens)


def test_clitic_s_is_told_apart() -> None:
    tokens = {(t.text, t.tag, t.lemma) for t in analyze("Let's go. She's happy. She's gone. Tom's dog barked.")}
    assert {("'s", "PRP", "us"), ("'s", "VBZ", "be"), ("'s", "POS", "'s")} <= tokens
    assert any(text == "'s" and lemma == "have" for text, _, lemma in tokens)


def test_lemmas_of_irregular_forms() -> None:
    lemmas = {t.text: t.lemma for t in analyze("The geese went to the mice and ate better food.")}
    assert lemmas["geese"] == "goose" and lemmas["went"] == "go" and lemmas["mice"] == "mouse"
    assert lemmas["ate"] == "eat"


def test_token_is_frozen_and_word_tokens_filters() -> None:
    tokens = analyze("Tom's 3 cats, 🙂 sleep!")
    with pytest.raises(AttributeError):
        tokens[0].text = "x"  # type: ignore[misc]
    assert isinstance(tokens[0], Token)
    assert [t.text for t in word_tokens(tokens)] == ["Tom", "cats", "sleep"]
    assert next(t for t in tokens if t.text == "🙂").tag == "SYM"


def test_analyze_returns_independent_lists_from_the_cache() -> None:
    first = analyze("A cached sentence.")
    first.clear()
    assert len(analyze("A cached sentence.")) == 4


def test_analyze_rejects_non_text() -> None:
    with pytest.raises(UserInputError):
        analyze(None)  # type: ignore[arg-type]


def test_inflect_and_lemmatize() -> None:
    assert inflect("go", "VBD") == "went"
    assert inflect("child", "NNS") == "children"
    assert inflect("big", "JJR") == "bigger"
    assert inflect("the", "DT") == "the"
    assert lemmatize("Running", "VERB") == "run"
    with pytest.raises(UserInputError):
        inflect("go", "PAST")
    with pytest.raises(UserInputError):
        lemmatize("go", "verb")


@pytest.mark.parametrize(
    "text",
    ["My name is Anna. I live in a small town with my family.", "Hello!", "Write a story about a dog",
     "Photosynthesis converts light energy into chemical energy."],
)  # fmt: skip
def test_english_is_recognised(text: str) -> None:
    verdict, reason = is_probably_english(text)
    assert verdict, reason


@pytest.mark.parametrize(
    "text",
    ["Ich heiße Anna und ich wohne mit meiner Familie in einer kleinen Stadt.",
     "Je m'appelle Anna et j'habite dans une petite ville avec ma famille.",
     "Me llamo Anna y vivo en un pueblo pequeño con mi familia.",
     "Меня зовут Анна.", "asdf qwer zxcv uiop", "12345", "", "Bonjour tout le monde"],
)  # fmt: skip
def test_other_text_is_rejected_with_a_reason(text: str) -> None:
    verdict, reason = is_probably_english(text)
    assert not verdict and reason


def test_penn_to_upos() -> None:
    assert penn_to_upos("NNS") == "NOUN" and penn_to_upos("MD") == "AUX" and penn_to_upos("??") == "X"


# --- the tagger itself ---------------------------------------------------------------------------------------


def test_tagger_features_follow_the_original_templates() -> None:
    context = ["-START-", "-START2-", "the", "!HYPHEN", "!YEAR", "-END-", "-END2-"]
    feats = features(1, "well-known", context, "DT", "-START-")
    assert feats[0] == "bias" and "i word !HYPHEN" in feats and "i+1 word !YEAR" in feats
    assert "i-1 tag+i word DT !HYPHEN" in feats and len(feats) == 14
    assert normalize("1984") == "!YEAR" and normalize("42") == "!DIGITS" and normalize("Dog") == "dog"


def test_tagger_uses_the_tag_dictionary_and_the_weights() -> None:
    tagger = default_tagger()
    assert "NN" in tagger.classes and len(tagger.classes) == 45
    assert tagger.tag(["The", "dog", "sleeps", "on", "the", "mat", "."]) == ["DT", "NN", "VBZ", "IN", "DT", "NN", "."]
    assert tagger.knows("-LRB-") and not tagger.knows("🙂")


def test_missing_or_corrupt_tagger_data_is_a_resource_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ResourceError):
        load_model("no-such-file.json.gz")
    corrupt = tmp_path / "knowledge" / "data"
    corrupt.mkdir(parents=True)
    (corrupt / "bad.json.gz").write_bytes(gzip.compress(json.dumps({"weights": {}}).encode()))
    monkeypatch.setattr(tagger_module, "files", lambda _pkg: tmp_path / "knowledge")
    with pytest.raises(ResourceError):
        load_model("bad.json.gz")


def test_tagger_is_a_plain_class_over_a_model() -> None:
    model = tagger_module.TaggerModel(weights={"i word cat": {"NN": 1.0}}, tagdict={"the": "DT"}, classes=("DT", "NN"))
    assert PerceptronTagger(model).tag(["the", "cat"]) == ["DT", "NN"]
