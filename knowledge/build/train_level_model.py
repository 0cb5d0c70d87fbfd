"""Dev-time: train and calibrate the sentence-level model on CEFR-SP (Wiki-Auto), write knowledge/data/level_model.json.

    python -m knowledge.build.train_level_model --data /path/to/cefr-sp-wikiauto [--dev] [--compare]

CEFR-SP (Arase, Uchida & Kajiwara 2022, "CEFR-Based Sentence-Difficulty Annotation and Assessment", EMNLP 2022;
Wiki-Auto part CC BY-SA 3.0) gives each sentence two annotators' levels 1..6 (A1..C2). Only the fitted weights are
vendored, never the sentences. The sentences are tokenised Wikipedia text ("winner 's foot ."); they are
detokenised first so that training sees text the way users write it.

Model: multinomial logistic regression on standardised features (`knowledge.level_estimator.FEATURE_NAMES`),
soft targets (half the mass on each annotator's label), L2 penalty on the weights, fitted exactly by Newton's
method (a few dozen iterations; no learning rate to tune). The decision rule is the most probable level.

Choices (feature groups, the penalty) are made by 5-fold cross-validation on train only; `--dev` scores the final
model on dev once, for the report. The three figures (see docs/level-and-aci.md): the share of sentences whose
prediction equals either annotator's label; the share within one level of the annotators' mean; and the mean
over levels of the first figure, where a sentence belongs to the level of its annotators' mean rounded half up.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from knowledge.grammar import GrammarProfile
from knowledge.level_estimator import FEATURE_GROUPS, MODEL_FILE, LevelModel, line_features
from knowledge.lexicon import Lexicon

Array = NDArray[np.float64]
Labels = NDArray[np.int64]
DATA_CITATION = (
    "CEFR-SP, Wiki-Auto part (train split), CC BY-SA 3.0: Yuki Arase, Satoru Uchida and Tomoyuki Kajiwara (2022), "
    "CEFR-Based Sentence-Difficulty Annotation and Assessment, EMNLP 2022."
)
DEFAULT_GROUPS = ("vocabulary", "frequency", "length", "syntax", "grammar")
PENALTIES = (0.3, 3.0, 30.0)
#: Our own sentences (not CEFR-SP's) whose probabilities are stored with the weights: a test recomputes them, so a
#: change in tokenisation, tagging or the word lists that would shift the model's inputs is noticed (retrain then).
REFERENCE_SENTENCES = (
    "I have a dog.",
    "She went to the shop yesterday because she needed some milk.",
    "If I had known about the meeting, I would have attended it.",
    "The committee's unprecedented decision exacerbated the dispute.",
    "Notwithstanding the ostensibly benign rhetoric, its epistemological underpinnings remain contentious.",
)
FOLDS = 5
SEED = 20221207


# --- data -----------------------------------------------------------------------------------------------------


def detokenize(sentence: str) -> str:
    """Undo Wiki-Auto's tokenisation: no space before clitics and punctuation ("winner 's ." -> "winner's.")."""
    text = re.sub(r" (?=(?:'s|'re|'ve|'ll|'m|'d|n't)\b)", "", sentence)
    text = re.sub(r" ([,.;:!?%])", r"\1", text)
    return text.strip()


def read_split(path: Path) -> tuple[list[str], Labels]:
    """Sentences (detokenised) and the two labels (n, 2) of one TSV split."""
    texts: list[str] = []
    labels: list[tuple[int, int]] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        sentence, a, b = line.split("\t")
        texts.append(detokenize(sentence))
        labels.append((int(a), int(b)))
    return texts, np.array(labels, dtype=np.int64)


def feature_table(texts: Sequence[str]) -> tuple[Array, list[str]]:
    """Every feature of every sentence as a matrix, with the feature names."""
    lexicon, grammar = Lexicon.load(), GrammarProfile.load()
    rows = [line_features(lexicon, grammar, text) for text in texts]
    names = list(rows[0])
    return np.array([[row[n] for n in names] for row in rows], dtype=np.float64), names


# --- metrics --------------------------------------------------------------------------------------------------


def metrics(pred: Labels, labels: Labels) -> dict[str, float]:
    """The issue's three figures for predicted ranks 1..6 against two annotators' labels."""
    a, b = labels[:, 0], labels[:, 1]
    hit = (pred == a) | (pred == b)
    group = np.floor((a + b) / 2 + 0.5).astype(np.int64)
    per_level = [float(hit[group == g].mean()) for g in range(1, 7) if (group == g).any()]
    return {
        "either_label": round(float(hit.mean()), 4),
        "within_one_of_mean": round(float((np.abs(pred - (a + b) / 2) <= 1).mean()), 4),
        "per_level_either_label": round(float(np.mean(per_level)), 4),
    }


def per_level_table(pred: Labels, labels: Labels) -> dict[str, dict[str, float]]:
    """Sentences and either-label accuracy per level group (annotators' mean rounded half up)."""
    a, b = labels[:, 0], labels[:, 1]
    hit = (pred == a) | (pred == b)
    group = np.floor((a + b) / 2 + 0.5).astype(np.int64)
    names = ("A1", "A2", "B1", "B2", "C1", "C2")
    return {
        names[g - 1]: {"sentences": int((group == g).sum()), "either_label": round(float(hit[group == g].mean()), 4)}
        for g in range(1, 7)
        if (group == g).any()
    }


# --- the regression -------------------------------------------------------------------------------------------


def soft_targets(labels: Labels) -> Array:
    """Half the probability mass on each annotator's label."""
    targets = np.zeros((len(labels), 6))
    rows = np.arange(len(labels))
    np.add.at(targets, (rows, labels[:, 0] - 1), 0.5)
    np.add.at(targets, (rows, labels[:, 1] - 1), 0.5)
    return targets


def softmax(logits: Array) -> Array:
    """Row-wise softmax."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    odds = np.exp(shifted)
    return np.asarray(odds / odds.sum(axis=1, keepdims=True))


def fit(x: Array, targets: Array, penalty: float, iterations: int = 50) -> tuple[Array, Array]:
    """Weights (d, k) and bias (k) minimising cross-entropy + penalty/2 * |W|^2, by Newton's method."""
    n, d = x.shape
    k = targets.shape[1]
    design = np.hstack([x, np.ones((n, 1))])
    theta = np.zeros((d + 1, k))
    ridge = np.full(d + 1, penalty)
    ridge[-1] = 1e-6  # the bias is (almost) not penalised
    for _ in range(iterations):
        probs = softmax(design @ theta)
        grad = design.T @ (probs - targets) + ridge[:, None] * theta
        step = np.linalg.solve(_hessian(design, probs, ridge), grad.T.reshape(-1))
        theta -= step.reshape(k, d + 1).T
        if np.abs(step).max() < 1e-7:
            break
    return theta[:-1], theta[-1]


def _hessian(design: Array, probs: Array, ridge: Array) -> Array:
    """Hessian of the penalised loss, parameters ordered class by class."""
    d1, k = design.shape[1], probs.shape[1]
    hess = np.zeros((k * d1, k * d1))
    for a in range(k):
        for b in range(a, k):
            weight = probs[:, a] * ((a == b) - probs[:, b])
            block = (design * weight[:, None]).T @ design
            hess[a * d1 : (a + 1) * d1, b * d1 : (b + 1) * d1] = block
            hess[b * d1 : (b + 1) * d1, a * d1 : (a + 1) * d1] = block.T
    hess += np.diag(np.tile(ridge, k))
    return hess


def train(x: Array, labels: Labels, penalty: float) -> tuple[Array, Array, Array, Array]:
    """Standardisation (mean, scale) and fitted weights and bias."""
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    weights, bias = fit((x - mean) / scale, soft_targets(labels), penalty)
    return mean, scale, weights, bias


def predict(model: tuple[Array, Array, Array, Array], x: Array) -> Array:
    """Level probabilities (n, 6) from a trained tuple."""
    mean, scale, weights, bias = model
    return softmax(((x - mean) / scale) @ weights + bias)


def cross_validate(x: Array, labels: Labels, penalty: float) -> tuple[dict[str, float], Array]:
    """Out-of-fold figures and probabilities of 5-fold CV on the given rows."""
    order = np.random.default_rng(SEED).permutation(len(labels))
    probs = np.zeros((len(labels), 6))
    for fold in range(FOLDS):
        test = order[fold::FOLDS]
        train_rows = np.setdiff1d(order, test)
        probs[test] = predict(train(x[train_rows], labels[train_rows], penalty), x[test])
    return metrics(np.argmax(probs, axis=1) + 1, labels), probs


def columns(names: Sequence[str], groups: Sequence[str]) -> list[int]:
    """Indices of the features that belong to the given groups."""
    wanted = {f for g in groups for f in FEATURE_GROUPS[g]}
    return [i for i, name in enumerate(names) if name in wanted]


# --- command --------------------------------------------------------------------------------------------------


def compare(x: Array, labels: Labels, names: Sequence[str]) -> None:
    """Print CV figures for each penalty and for the model without each feature group."""
    for penalty in PENALTIES:
        print(f"all groups, penalty {penalty}: {cross_validate(x, labels, penalty)[0]}", flush=True)
    for left_out in DEFAULT_GROUPS:
        groups = [g for g in DEFAULT_GROUPS if g != left_out]
        figures, _ = cross_validate(x[:, columns(names, groups)], labels, PENALTIES[1])
        print(f"without {left_out}: {figures}", flush=True)
    for only in ("vocabulary", "frequency"):
        figures, _ = cross_validate(x[:, columns(names, [only])], labels, PENALTIES[1])
        print(f"only {only}: {figures}", flush=True)


def baseline(labels: Labels) -> dict[str, float]:
    """The figures of always answering B1."""
    return metrics(np.full(len(labels), 3, dtype=np.int64), labels)


def main(argv: Sequence[str] | None = None) -> None:
    """Train on train, cross-validate, optionally score dev once, and write the weights."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="Directory with train.tsv and dev.tsv.")
    parser.add_argument("--groups", nargs="+", default=list(DEFAULT_GROUPS), choices=DEFAULT_GROUPS)
    parser.add_argument("--penalty", type=float, default=PENALTIES[1])
    parser.add_argument("--compare", action="store_true", help="Print CV figures of penalties and ablations.")
    parser.add_argument("--dev", action="store_true", help="Score the final model on dev (do this once).")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent.parent / "data" / MODEL_FILE)
    args = parser.parse_args(argv)
    texts, labels = read_split(args.data / "train.tsv")
    started = time.perf_counter()
    x_all, names = feature_table(texts)
    print(f"features: {len(texts)} sentences in {time.perf_counter() - started:.1f} s", flush=True)
    print(f"always B1 on train: {baseline(labels)}")
    if args.compare:
        compare(x_all, labels, names)
    keep = columns(names, args.groups)
    x = x_all[:, keep]
    cv, probs = cross_validate(x, labels, args.penalty)
    print(f"5-fold CV on train: {cv}\n{json.dumps(per_level_table(np.argmax(probs, 1) + 1, labels))}")
    model = train(x, labels, args.penalty)
    meta = _meta(args, cv, probs, labels)
    if args.dev:
        meta["dev"] = _score_dev(args.data / "dev.tsv", model, [names[i] for i in keep])
    level_model = LevelModel(tuple(names[i] for i in keep), *model, meta=meta)
    level_model.validate()
    meta["reference"] = _reference(level_model)
    args.out.write_text(json.dumps(level_model.to_dict(), indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")


def _meta(args: argparse.Namespace, cv: dict[str, float], probs: Array, labels: Labels) -> dict[str, object]:
    """What the weights were trained on and how well they did in cross-validation."""
    return {
        "trained": dt.date.today().isoformat(),
        "training_data": DATA_CITATION,
        "sentences": len(labels),
        "feature_groups": list(args.groups),
        "penalty": args.penalty,
        "decision": "most probable level",
        "cv_5fold_train": cv,
        "cv_per_level": per_level_table(np.argmax(probs, 1) + 1, labels),
        "always_b1_train": baseline(labels),
    }


def _reference(model: LevelModel) -> dict[str, list[float]]:
    """The model's probabilities for the reference sentences, as the run-time code computes them."""
    lexicon, grammar = Lexicon.load(), GrammarProfile.load()
    rows = np.array([model.vector(line_features(lexicon, grammar, s)) for s in REFERENCE_SENTENCES])
    return {s: p.round(4).tolist() for s, p in zip(REFERENCE_SENTENCES, model.probabilities(rows), strict=True)}


def _score_dev(path: Path, model: tuple[Array, Array, Array, Array], names: list[str]) -> dict[str, object]:
    """Figures of the final model on dev, printed and returned."""
    texts, labels = read_split(path)
    x_all, all_names = feature_table(texts)
    x = x_all[:, [all_names.index(n) for n in names]]
    pred = np.argmax(predict(model, x), axis=1) + 1
    figures = {"figures": metrics(pred, labels), "per_level": per_level_table(pred, labels),
               "always_b1": baseline(labels), "sentences": len(labels)}  # fmt: skip
    print(f"dev: {json.dumps(figures)}")
    return figures


if __name__ == "__main__":
    main()
