"""Dev-time: rebuild knowledge/data/wordnet-lexicon.json.gz from Debian's `wordnet-base` (WordNet 3.0).

    apt-get install -y wordnet-base
    /work/venv/bin/python -m knowledge.build.wordnet [--wordnet-dir /usr/share/wordnet]

Reads the WordNet database files directly (the `wndb(5WN)` format: data.* and index.* per part of speech) and keeps,
for every spelling in the vendored vocabulary lists: its senses in frequency order with gloss, examples, synonyms
(the synset's lemma names), immediate hypernyms' lemma names, lexicographer file and topic domains (';c' pointers),
plus the first-hypernym chain of its two commonest senses (used to find topic members: 'dog' -> ... 'animal'),
and the derivationally related forms and antonyms of its three commonest senses (happy -> happiness, unhappy).
The product reads only the derived file; neither apt nor NLTK is needed at run time.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from knowledge.lexicon import read_lists

OUTPUT = Path(__file__).resolve().parent.parent / "data" / "wordnet-lexicon.json.gz"
FORMAT_VERSION = 1
_FILES = {"n": "noun", "v": "verb", "a": "adj", "r": "adv"}
#: The 45 lexicographer files, numbered as in lexnames(5WN).
LEXNAMES: tuple[str, ...] = (
    "adj.all", "adj.pert", "adv.all", "noun.Tops", "noun.act", "noun.animal", "noun.artifact", "noun.attribute",
    "noun.body", "noun.cognition", "noun.communication", "noun.event", "noun.feeling", "noun.food", "noun.group",
    "noun.location", "noun.motive", "noun.object", "noun.person", "noun.phenomenon", "noun.plant",
    "noun.possession", "noun.process", "noun.quantity", "noun.relation", "noun.shape", "noun.state",
    "noun.substance", "noun.time", "verb.body", "verb.change", "verb.cognition", "verb.communication",
    "verb.competition", "verb.consumption", "verb.contact", "verb.creation", "verb.emotion", "verb.motion",
    "verb.perception", "verb.possession", "verb.social", "verb.stative", "verb.weather", "adj.ppl",
)  # fmt: skip
_HYPERNYM = ("@", "@i")
_DOMAIN_TOPIC = ";c"
#: Derivationally related form ('+') and pertainym / derived-from-adjective ('\\'): word families.
_DERIVATION = ("+", "\\")
_ANTONYM = "!"
_ANCESTOR_SENSES = 2
#: Word families come from the commonest senses only (letter 'one who lets' is sense 5 of letter).
_FAMILY_SENSES = 3
_MARKER = re.compile(r"\([a-z]+\)$")
_EXAMPLE = re.compile(r'"([^"]+)"')


@dataclass
class RawSynset:
    """One line of a data.* file, parsed."""

    pos: str
    lexname: int
    words: list[str]
    gloss: str
    examples: list[str]
    hypernyms: list[tuple[str, int]] = field(default_factory=list)
    domains: list[tuple[str, int]] = field(default_factory=list)
    #: Lexical derivation pointers: (source word number, target pos, target offset, target word number), 1-based.
    derivations: list[tuple[int, str, int, int]] = field(default_factory=list)
    #: Lexical antonym pointers, same shape.
    antonyms: list[tuple[int, str, int, int]] = field(default_factory=list)


def parse_data_line(line: str) -> tuple[int, RawSynset]:
    """Parse one synset line: offset, lex file, type, words, pointers, (verb frames), '|' gloss."""
    head, _, gloss = line.partition(" | ")
    parts = head.split()
    offset, lexname, ss_type = int(parts[0]), int(parts[1]), parts[2]
    count = int(parts[3], 16)
    words = [_MARKER.sub("", parts[4 + 2 * i]).replace("_", " ") for i in range(count)]
    at = 4 + 2 * count
    synset = RawSynset("a" if ss_type == "s" else ss_type, lexname, words, *split_gloss(gloss))
    for i in range(int(parts[at])):
        symbol, target, target_pos, source_target = parts[at + 1 + 4 * i : at + 5 + 4 * i]
        pointer = ("a" if target_pos == "s" else target_pos, int(target))
        if symbol in _HYPERNYM:
            synset.hypernyms.append(pointer)
        elif symbol == _DOMAIN_TOPIC:
            synset.domains.append(pointer)
        elif symbol in (*_DERIVATION, _ANTONYM) and source_target != "0000":
            source, dest = int(source_target[:2], 16), int(source_target[2:], 16)
            table = synset.antonyms if symbol == _ANTONYM else synset.derivations
            table.append((source, pointer[0], pointer[1], dest))
    return offset, synset


def split_gloss(gloss: str) -> tuple[str, list[str]]:
    """Split a WordNet gloss into its definition and its quoted example sentences."""
    examples = [e.strip() for e in _EXAMPLE.findall(gloss)]
    definition = gloss.split('"', 1)[0].strip().rstrip(";").strip()
    return definition, examples


def read_data(root: Path) -> dict[tuple[str, int], RawSynset]:
    """All synsets of the four data files, keyed by (pos, offset)."""
    synsets: dict[tuple[str, int], RawSynset] = {}
    for pos, name in _FILES.items():
        for line in (root / f"data.{name}").read_text(encoding="utf-8").splitlines():
            if line and not line.startswith(" "):
                offset, synset = parse_data_line(line)
                synsets[(pos, offset)] = synset
    return synsets


def read_index(root: Path) -> dict[str, dict[str, list[int]]]:
    """Per POS, lemma (spaces, lower case) -> synset offsets in sense-frequency order."""
    index: dict[str, dict[str, list[int]]] = {}
    for pos, name in _FILES.items():
        table: dict[str, list[int]] = {}
        for line in (root / f"index.{name}").read_text(encoding="utf-8").splitlines():
            if line and not line.startswith(" "):
                parts = line.split()
                count = int(parts[2])
                table[parts[0].replace("_", " ")] = [int(o) for o in parts[len(parts) - count :]]
        index[pos] = table
    return index


def spellings(form: str, pos: str) -> list[str]:
    """WordNet spellings to try for a list spelling, most faithful first.

    As is, hyphens and spaces swapped or dropped, accents removed, then its lemmas for the POS (a list headword
    such as 'facilities' is a plural that WordNet lists in the singular).
    """
    from lemminflect import getAllLemmas

    low = form.lower()
    plain = unicodedata.normalize("NFKD", low).encode("ascii", "ignore").decode("ascii")
    upos = {"n": "NOUN", "v": "VERB", "a": "ADJ", "r": "ADV"}[pos]
    lemmas = [lemma.lower() for lemma in getAllLemmas(form).get(upos, ())]
    tried = [low, low.replace("-", " "), low.replace(" ", "-"), low.replace("-", ""), low.replace(" ", ""), plain]
    return list(dict.fromkeys(tried + lemmas))


class Builder:
    """Collects the synsets the vocabulary needs and numbers them compactly."""

    def __init__(self, synsets: dict[tuple[str, int], RawSynset]) -> None:
        self.synsets = synsets
        self.ids: dict[tuple[str, int], int] = {}

    def synset_id(self, key: tuple[str, int]) -> int:
        """The compact id of a synset, assigned on first use."""
        return self.ids.setdefault(key, len(self.ids))

    def names(self, keys: list[tuple[str, int]], limit: int = 3) -> list[str]:
        """The first lemma names of some synsets (for hypernyms and domains)."""
        return list(dict.fromkeys(w for k in keys for w in self.synsets[k].words[:limit]))

    def ancestors(self, key: tuple[str, int]) -> list[str]:
        """First lemma of each synset on the first-hypernym chain above a synset, nearest first."""
        chain: list[str] = []
        seen = {key}
        while self.synsets[key].hypernyms:
            key = self.synsets[key].hypernyms[0]
            if key in seen:
                break
            seen.add(key)
            chain.append(self.synsets[key].words[0])
        return chain

    def encode(self) -> list[list[object]]:
        """The collected synsets as compact rows: pos, lexname, words, gloss, examples, hypernyms, domains."""
        rows: list[list[object]] = [[] for _ in self.ids]
        for key, number in self.ids.items():
            s = self.synsets[key]
            hypernyms, domains = self.names(s.hypernyms), self.names(s.domains, 1)
            rows[number] = [s.pos, s.lexname, s.words, s.gloss, s.examples, hypernyms, domains]
        return rows


def family(
    synsets: dict[tuple[str, int], RawSynset], form: str, keys: list[tuple[str, int]], *, antonyms: bool = False
) -> list[list[str]]:
    """[word, pos] of the derivationally related forms of `form` in its senses (see _DERIVATION), or its antonyms."""
    found: list[list[str]] = []
    for key in keys:
        synset = synsets[key]
        for source, pos, offset, dest in synset.antonyms if antonyms else synset.derivations:
            if source <= len(synset.words) and synset.words[source - 1].lower() == form:
                target = synsets[(pos, offset)].words[dest - 1]
                if [target, pos] not in found and target.lower() != form:
                    found.append([target, pos])
    return found


def build(root: Path) -> dict[str, Any]:
    """The derived document for the vocabulary lists' spellings."""
    synsets, index = read_data(root), read_index(root)
    builder = Builder(synsets)
    words: dict[str, dict[str, list[int]]] = {pos: {} for pos in _FILES}
    ancestors: dict[str, dict[str, list[str]]] = {pos: {} for pos in _FILES}
    derivations: dict[str, dict[str, list[list[str]]]] = {pos: {} for pos in _FILES}
    antonyms: dict[str, dict[str, list[list[str]]]] = {pos: {} for pos in _FILES}
    forms = sorted({e.headword.lower() for e in read_lists()})
    for form in forms:
        for pos in _FILES:
            offsets = next((index[pos][s] for s in spellings(form, pos) if s in index[pos]), None)
            if not offsets:
                continue
            words[pos][form] = [builder.synset_id((pos, o)) for o in offsets]
            related = family(synsets, form, [(pos, o) for o in offsets[:_FAMILY_SENSES]])
            if related:
                derivations[pos][form] = related
            opposite = family(synsets, form, [(pos, o) for o in offsets[:_FAMILY_SENSES]], antonyms=True)
            if opposite:
                antonyms[pos][form] = opposite
            chain = [a for o in offsets[:_ANCESTOR_SENSES] for a in builder.ancestors((pos, o))]
            if chain:
                ancestors[pos][form] = list(dict.fromkeys(chain))
    return {
        "format": FORMAT_VERSION,
        "source": "WordNet 3.0, Princeton University (Debian package wordnet-base)",
        "license": "WordNet 3.0 license; see WORDNET-LICENSE.txt beside this file",
        "lexnames": LEXNAMES,
        "synsets": builder.encode(),
        "words": words,
        "ancestors": ancestors,
        "derivations": derivations,
        "antonyms": antonyms,
    }


def main() -> None:
    """Command-line entry point: rebuild the derived file and print what it holds."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wordnet-dir", type=Path, default=Path("/usr/share/wordnet"))
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args()
    if not (args.wordnet_dir / "data.noun").is_file():
        raise SystemExit(f"No WordNet database in {args.wordnet_dir}: apt-get install -y wordnet-base")
    document = build(args.wordnet_dir)
    payload = json.dumps(document, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode("utf-8")
    with args.output.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as out:
        out.write(payload)
    counts = {pos: len(table) for pos, table in document["words"].items()}
    size = args.output.stat().st_size
    print(f"wrote {args.output} ({size:,} bytes): {len(document['synsets'])} synsets, spellings by POS {counts}")


if __name__ == "__main__":
    main()
