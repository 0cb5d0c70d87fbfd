"""GLEU, the fluency metric of grammatical error correction, and the JFLEG benchmark of our corrector.

GLEU (Napoles, Sakaguchi, Post and Tetreault 2015, "Ground Truth for Grammatical Error Correction Metrics", with
the 2016 update for several references) is BLEU with a penalty for n-grams the system copied from the source that
the reference changed. For one draw, every sentence gets one of its references; per n-gram order n = 1..4 the
counts are summed over the corpus:

    matches_n = max(0, |hyp ∩ ref| - |hyp ∩ (src - ref)|)      (n-gram multisets; src - ref drops shared n-grams)
    total_n   = max(0, len(hyp) + 1 - n)
    GLEU      = exp(min(0, 1 - ref_len / hyp_len) + mean_n log(matches_n / total_n))   (0 if any count is 0)

The reported figure is the mean GLEU over 500 draws; draw j seeds `random` with j * 101 and picks each sentence's
reference as `int(random() * references)`, which is what the reference implementation (cnap/gec-ranking,
compute_gleu, run under Python 2, whose `randint` did that) drew: copying the JFLEG dev sources scores the
published 38.21 this way (Python 3's `randint` draws other references and gives 38.20).
Sentences are compared as whitespace-separated tokens (JFLEG is tokenised).

JFLEG (CC BY-NC-SA 4.0) is evaluation-only data: it is read from a directory given on the command line, never
shipped with the product.
"""

from __future__ import annotations

import math
import random
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, Field

from knowledge.errors import UserInputError

ORDER = 4
ITERATIONS = 500
Ngrams = Counter[tuple[str, ...]]


def ngrams(tokens: Sequence[str], n: int) -> Ngrams:
    """The multiset of n-grams of a token sequence."""
    return Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) + 1 - n))


def _minus_shared(source: Ngrams, reference: Ngrams) -> Ngrams:
    """Source n-grams that the reference does not have at all (the ones a correction should have changed)."""
    return Counter({k: v for k, v in source.items() if k not in reference})


def sentence_stats(hypothesis: Sequence[str], source: Sequence[str], reference: Sequence[str]) -> list[int]:
    """[hyp length, ref length, matches_1, total_1, ..., matches_4, total_4] for one sentence and reference."""
    stats = [len(hypothesis), len(reference)]
    for n in range(1, ORDER + 1):
        hyp, ref = ngrams(hypothesis, n), ngrams(reference, n)
        penalised = _minus_shared(ngrams(source, n), ref)
        matches = sum((hyp & ref).values()) - sum((hyp & penalised).values())
        stats += [max(matches, 0), max(len(hypothesis) + 1 - n, 0)]
    return stats


def gleu_of_stats(stats: Sequence[int]) -> float:
    """GLEU (0..1) from summed statistics; 0 when any count is 0 (no smoothing, as at corpus level)."""
    if any(s == 0 for s in stats):
        return 0.0
    hyp_len, ref_len = stats[0], stats[1]
    precision = sum(math.log(m / t) for m, t in zip(stats[2::2], stats[3::2], strict=True)) / ORDER
    return math.exp(min(0.0, 1 - ref_len / hyp_len) + precision)


def draws(sentences: int, references: int, iterations: int = ITERATIONS) -> list[list[int]]:
    """Which reference each sentence gets in each draw (seeded like the reference implementation)."""
    out = []
    for j in range(iterations):
        rng = random.Random(j * 101)
        out.append([int(rng.random() * references) for _ in range(sentences)])
    return out


def corpus_gleu(
    sources: Sequence[str], references: Sequence[Sequence[str]], hypotheses: Sequence[str],
    iterations: int = ITERATIONS,
) -> float:  # fmt: skip
    """GLEU (0..100) of hypotheses against sources and their references (one list of references per sentence)."""
    if not (len(sources) == len(references) == len(hypotheses)) or not sources:
        raise ValueError("GLEU needs as many sources, reference sets and hypotheses, and at least one of each")
    count = len(references[0])
    iterations = 1 if count == 1 else iterations
    cache: dict[tuple[int, int], list[int]] = {}
    totals = []
    for picks in draws(len(sources), count, iterations):
        summed = [0] * (2 * ORDER + 2)
        for i, r in enumerate(picks):
            if (i, r) not in cache:
                cache[i, r] = sentence_stats(hypotheses[i].split(), sources[i].split(), references[i][r].split())
            summed = [a + b for a, b in zip(summed, cache[i, r], strict=True)]
        totals.append(gleu_of_stats(summed))
    return 100 * sum(totals) / len(totals)


# --- JFLEG ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Jfleg:
    """A JFLEG split: tokenised learner sentences and their four human corrections, aligned by line."""

    sources: list[str]
    references: list[list[str]]

    def part(self, start: int, limit: int | None) -> Jfleg:
        """The sentences from `start`, at most `limit` of them."""
        end = len(self.sources) if limit is None else start + limit
        return Jfleg(self.sources[start:end], self.references[start:end])


def load_jfleg(directory: Path, split: str = "dev") -> Jfleg:
    """Read SPLIT.src and SPLIT.ref0..3 from a JFLEG directory."""
    source = directory / f"{split}.src"
    refs = sorted(directory.glob(f"{split}.ref[0-9]"))
    if not source.is_file() or not refs:
        raise UserInputError(f"{directory} has no {split}.src and {split}.ref0..ref3; give the JFLEG directory.")
    sources = _lines(source)
    columns = [_lines(r) for r in refs]
    if any(len(c) != len(sources) for c in columns):
        raise UserInputError(f"The reference files in {directory} do not have one line per source sentence.")
    return Jfleg(sources, [list(row) for row in zip(*columns, strict=True)])


def _lines(path: Path) -> list[str]:
    """The lines of a UTF-8 file, stripped."""
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]


class GleuReport(BaseModel):
    """What `forge bench gleu` prints."""

    sentences: int
    start: int = Field(description="Index of the first sentence measured.")
    gleu_copy: float = Field(description="GLEU of copying the source unchanged.")
    gleu_system: float = Field(description="GLEU of our corrections.")
    gain: float = Field(description="gleu_system - gleu_copy, in points.")
    sentences_changed: float = Field(description="Share of learner sentences our corrector changed.")
    false_alarm_rate: float = Field(description="Share of human references (given as input) that we changed.")
    false_alarm_inputs: int
    s_per_sentence: float = Field(description="Mean wall time of one correction (learner sentences).")
    examples: list[dict[str, str]] = Field(default_factory=list, description="Changed sentences: source, ours.")


Corrector = Callable[[str], str]


def run(data: Jfleg, correct: Corrector, start: int = 0, progress: Callable[[], None] | None = None) -> GleuReport:
    """Correct every source and every first reference; GLEU of copying and of ours, false alarms, timing."""
    ours, elapsed = [], 0.0
    for line in data.sources:
        began = time.perf_counter()
        ours.append(correct(line))
        elapsed += time.perf_counter() - began
        if progress:
            progress()
    references = [refs[0] for refs in data.references]
    changed_refs = 0
    for line in references:
        changed_refs += correct(line).split() != line.split()
        if progress:
            progress()
    n = len(data.sources)
    copy, system = (
        corpus_gleu(data.sources, data.references, data.sources),
        corpus_gleu(data.sources, data.references, ours),
    )
    changed = [(s, o) for s, o in zip(data.sources, ours, strict=True) if s.split() != o.split()]
    return GleuReport(
        sentences=n, start=start, gleu_copy=round(copy, 2), gleu_system=round(system, 2),
        gain=round(system - copy, 2), sentences_changed=round(len(changed) / n, 3),
        false_alarm_rate=round(changed_refs / n, 3), false_alarm_inputs=n, s_per_sentence=round(elapsed / n, 3),
        examples=[{"source": s, "ours": o} for s, o in changed],
    )  # fmt: skip


# --- correcting tokenised text --------------------------------------------------------------------------------

_NO_SPACE_BEFORE = frozenset({".", ",", "!", "?", ";", ":", ")", "]", "%", "n't", "'s", "'re", "'m", "'ve", "'ll",
                              "'d", "''"})  # fmt: skip
_NO_SPACE_AFTER = frozenset({"(", "[", "$", "``"})


def detokenise(tokens: Sequence[str]) -> tuple[str, list[tuple[int, int]]]:
    """Tokens joined as a person writes them ("do n't ," -> "don't,"), with each token's span in that text."""
    text, spans = "", []
    for i, token in enumerate(tokens):
        glued = i == 0 or token.lower() in _NO_SPACE_BEFORE or tokens[i - 1] in _NO_SPACE_AFTER
        text += "" if glued else " "
        spans.append((len(text), len(text) + len(token)))
        text += token
    return text, spans


Edit = tuple[tuple[int, int], str]


def retokenised(line: str, correct_text: Callable[[str], list[Edit]], tokenise: Callable[[str], list[str]]) -> str:
    """A tokenised line corrected: detokenised, corrected as text, edited tokens re-tokenised, the rest kept as is."""
    tokens = line.split()
    text, spans = detokenise(tokens)
    out = list(tokens)
    for (start, end), replacement in sorted(correct_text(text), reverse=True):
        hit = [k for k, (s, e) in enumerate(spans) if s < end and start < e] or [
            k for k, (s, _) in enumerate(spans) if s >= start
        ][:1]
        if not hit:
            continue
        first, last = hit[0], hit[-1]
        new = text[spans[first][0] : start] + replacement + text[end : spans[last][1]]
        out[first : last + 1] = tokenise(new)
    return " ".join(out)
