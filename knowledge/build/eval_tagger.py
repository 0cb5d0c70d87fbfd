"""Spot-check POS tagging accuracy and measure analysis speed of `knowledge.nlp`.

Development time only. No Penn-tagged English corpus is available offline here, so accuracy is measured on a small
gold sample written and hand-tagged by us: 30 learner-level sentences (the kind of English the product handles),
Penn-Treebank conventions. It is a spot-check, not a benchmark. Speed is measured on real text: sentences given on
the command line as a TSV whose first column is a sentence (e.g. the CEFR-SP Wiki-Auto training file).

Usage: python -m knowledge.build.eval_tagger [--speed-file /work/shared/data/cefr-sp-wikiauto/train.tsv]
"""

from __future__ import annotations

import argparse
import re
import time
from collections import Counter
from pathlib import Path

from knowledge.nlp import _analyze_cached, analyze
from knowledge.tagger import default_tagger

GOLD = """
My/PRP$ sister/NN works/VBZ in/IN a/DT big/JJ hospital/NN ./.
We/PRP did/VBD n't/RB go/VB to/TO the/DT park/NN yesterday/NN because/IN it/PRP was/VBD raining/VBG ./.
I/PRP 'm/VBP going/VBG to/TO buy/VB some/DT fresh/JJ bread/NN and/CC milk/NN ./.
Have/VBP you/PRP ever/RB been/VBN to/TO London/NNP ?/.
The/DT children/NNS were/VBD playing/VBG happily/RB in/IN the/DT garden/NN ./.
She/PRP can/MD speak/VB three/CD languages/NNS very/RB well/RB ./.
If/IN I/PRP had/VBD more/JJR time/NN ,/, I/PRP would/MD learn/VB to/TO play/VB the/DT guitar/NN ./.
This/DT is/VBZ the/DT best/JJS book/NN that/WDT I/PRP have/VBP ever/RB read/VBN ./.
He/PRP usually/RB gets/VBZ up/RP at/IN seven/CD o'clock/RB ./.
There/EX are/VBP many/JJ old/JJ houses/NNS in/IN our/PRP$ town/NN ./.
What/WDT time/NN does/VBZ the/DT train/NN leave/VB ?/.
Tom/NNP 's/POS brother/NN has/VBZ been/VBN living/VBG in/IN Spain/NNP since/IN 2019/CD ./.
The/DT weather/NN was/VBD colder/JJR than/IN we/PRP expected/VBD ./.
Could/MD you/PRP open/VB the/DT window/NN for/IN me/PRP ?/.
Reading/VBG books/NNS is/VBZ one/CD of/IN my/PRP$ favourite/JJ hobbies/NNS ./.
They/PRP have/VBP lived/VBN here/RB for/IN ten/CD years/NNS ./.
The/DT film/NN was/VBD so/RB boring/JJ that/IN we/PRP left/VBD early/RB ./.
Where/WRB do/VBP you/PRP usually/RB spend/VB your/PRP$ holidays/NNS ?/.
I/PRP think/VBP that/IN the/DT meeting/NN will/MD be/VB cancelled/VBN ./.
Our/PRP$ teacher/NN gave/VBD us/PRP a/DT lot/NN of/IN homework/NN ./.
The/DT new/JJ shopping/NN centre/NN opens/VBZ on/IN Monday/NNP ./.
Climate/NN change/NN is/VBZ one/CD of/IN the/DT most/RBS serious/JJ problems/NNS facing/VBG the/DT world/NN today/NN ./.
Although/IN it/PRP was/VBD expensive/JJ ,/, she/PRP bought/VBD the/DT dress/NN ./.
You/PRP should/MD n't/RB eat/VB so/RB much/JJ sugar/NN ./.
The/DT letter/NN was/VBD written/VBN by/IN my/PRP$ grandmother/NN in/IN 1965/CD ./.
Scientists/NNS believe/VBP that/IN the/DT number/NN of/IN species/NNS is/VBZ decreasing/VBG rapidly/RB ./.
Let/VB 's/PRP meet/VB outside/IN the/DT cinema/NN ./.
Most/JJS students/NNS found/VBD the/DT exam/NN quite/RB difficult/JJ ./.
I/PRP 'd/MD like/VB a/DT cup/NN of/IN tea/NN ,/, please/UH ./.
He/PRP was/VBD born/VBN in/IN a/DT small/JJ village/NN near/IN the/DT sea/NN ./.
"""


def gold_sentences() -> list[list[tuple[str, str]]]:
    """The gold sample as (token, tag) lists."""
    return [[tuple(pair.rsplit("/", 1)) for pair in line.split()] for line in GOLD.strip().splitlines()]  # type: ignore[misc]


def detokenize(tokens: list[str]) -> str:
    """Plain text for a tokenised sentence (clitics and punctuation re-attached)."""
    return re.sub(r" (n't|'s|'m|'d|'ll|'re|'ve|[.,?!])", r"\1", " ".join(tokens))


def accuracy() -> None:
    """Print tagger-only accuracy (gold tokens) and pipeline accuracy (our tokeniser on plain text)."""
    tagger, errors = default_tagger(), Counter[tuple[str, str, str]]()
    right = pipe_right = total = 0
    for sentence in gold_sentences():
        words, gold = [w for w, _ in sentence], [t for _, t in sentence]
        right += sum(p == g for p, g in zip(tagger.tag(words), gold, strict=True))
        tokens = analyze(detokenize(words))
        if [t.text for t in tokens] != words:
            print(f"tokenisation differs: {[t.text for t in tokens]} vs {words}")
            continue
        for token, tag in zip(tokens, gold, strict=True):
            pipe_right += token.tag == tag
            if token.tag != tag:
                errors[(token.text, token.tag, tag)] += 1
        total += len(words)
    print(f"tagger on gold tokens: {right}/{total} = {right / total:.1%}")
    print(f"full pipeline (tokenise + tag + fixes): {pipe_right}/{total} = {pipe_right / total:.1%}")
    print("errors (token, predicted, gold):", sorted(errors))


def speed(path: Path, limit: int = 3000) -> None:
    """Print analyze() throughput on real sentences (uncached) and the cost of one 20-word sentence."""
    lines = path.read_text(encoding="utf-8").splitlines()[:limit]
    texts = [detokenize(line.split("\t")[0].split()) for line in lines]
    analyze("warm up the tagger and lemmatiser.")
    start = time.perf_counter()
    n_tokens = sum(len(_analyze_cached.__wrapped__(text)) for text in texts)
    elapsed = time.perf_counter() - start
    print(
        f"analyze(): {len(texts)} sentences, {n_tokens} tokens in {elapsed:.2f} s = {n_tokens / elapsed:,.0f} tokens/s"
    )
    sentence = "The little girl with the red hat walked slowly to school because she did not want to be late today."
    runs = 200
    start = time.perf_counter()
    for _ in range(runs):
        _analyze_cached.__wrapped__(sentence)
    print(f"analyze() of a 20-word sentence, uncached: {(time.perf_counter() - start) / runs * 1000:.2f} ms")


def main() -> None:
    """Run the accuracy spot-check and, given a sentence file, the speed measurement."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--speed-file", type=Path)
    args = parser.parse_args()
    accuracy()
    if args.speed_file:
        speed(args.speed_file)


if __name__ == "__main__":
    main()
