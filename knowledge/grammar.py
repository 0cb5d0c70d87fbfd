"""The CEFR-J Grammar Profile (499 items): levels, variants, prerequisites, and detectors that find items in text.

Levels come from the profile's own columns, first one that has a value (see `item_level`): CEFR-J Level
(A1.1..B2.2 -> A1..B2), else the English Grammar Profile, else the Core Inventory, else GSELO (GSE Learning
Objectives, already expressed as CEFR levels); a range or list such as "A1-A2, C1" counts as the lowest level of
its first range. Variants ("1-1") without any level inherit their parent's; a few items the profile leaves unrated
get an editorial level from `grammar-detectors.yaml`, marked as such.

Detectors are patterns over tokens (word, lemma, Penn tag, UPOS, flags) written in a small language, kept with
their positive and negative example sentences in `knowledge/data/grammar-detectors.yaml`; see `compile_pattern`.
"""

from __future__ import annotations

import csv
import re
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache
from importlib.resources import files
from typing import Any, Protocol

import yaml
from pydantic import BaseModel, ConfigDict

from knowledge.errors import ResourceError, UserInputError
from knowledge.levels import Level, parse_level

PROFILE_FILE = "cefrj-grammar-profile-20180315.csv"
DETECTORS_FILE = "grammar-detectors.yaml"
SOURCE = "CEFR-J Grammar Profile 20180315"
#: Columns that can give an item its level, in order of trust.
LEVEL_COLUMNS = ("CEFR-J Level", "EGP", "Core Inventory", "GSELO")
_SENTENCE_TYPES = {"AFF": "AFF. DEC.", "NEG": "NEG. DEC.", "INT.AFF": "AFF. INT.", "INT.NEG": "NEG. INT."}
_TYPE_SUFFIX = re.compile(r"^[^.]+\.[^.].*\.(INT\.AFF|INT\.NEG|AFF|NEG)$")
_LEVEL_TOKEN = re.compile(r"[ABC][12]")
#: Code prefixes that belong to one family for prerequisite edges (all relative constructions together).
_FAMILY_ALIASES = {"PRELO": "PREL", "PRELGEN": "PREL", "RBREL": "PREL", "VN": "VG"}


class TokenLike(Protocol):
    """What detectors read from a token (knowledge.nlp.Token has all of it)."""

    @property
    def text(self) -> str:
        """The token as written."""
        ...

    @property
    def lower(self) -> str:
        """Lower-cased text."""
        ...

    @property
    def lemma(self) -> str:
        """Dictionary form."""
        ...

    @property
    def tag(self) -> str:
        """Penn-Treebank tag."""
        ...

    @property
    def upos(self) -> str:
        """Universal POS tag."""
        ...

    @property
    def start(self) -> int:
        """Offset of the first character in the text."""
        ...

    @property
    def end(self) -> int:
        """Offset one past the last character."""
        ...

    @property
    def sentence(self) -> int:
        """Index of the sentence the token is in."""
        ...


@dataclass(frozen=True, slots=True)
class GrammarItem:
    """One row of the CEFR-J Grammar Profile, with the level we use and which column gave it."""

    id: str
    code: str
    name: str
    sentence_type: str
    level: Level | None
    level_source: str
    raw_levels: dict[str, str]
    parent: str | None
    family: str
    row: int
    notes: str = ""

    @property
    def citation(self) -> str:
        """Where the item comes from, precise enough to find the row again."""
        return f"{SOURCE} ({PROFILE_FILE}, line {self.row}, item {self.id})"


class GrammarMatch(BaseModel):
    """An occurrence of a grammar item in a text: the item, its level and the character span it covers."""

    model_config = ConfigDict(frozen=True)

    item_id: str
    level: Level | None
    span: tuple[int, int]
    text: str


@dataclass(frozen=True)
class Detector:
    """A compiled pattern for one item, with the sentence conditions and the examples it is tested on."""

    item_id: str
    pattern: str
    regex: re.Pattern[str]
    question: bool | None = None
    exclamation: bool | None = None
    positive: tuple[str, ...] = ()
    negative: tuple[str, ...] = ()


# --- the pattern language -------------------------------------------------------------------------------------
#
# A pattern is a sequence of token atoms, groups and operators, written with spaces between them:
#   [word=have|has lemma=be tag=VBN upos=VERB flag=CMP]   one token; every constraint must hold.
#       attr=a|b   the field is one of the values (literal; word and lemma are lower-case)
#       attr!=a|b  the field is none of them;   attr~=re  the field matches the regular expression re
#       attrs: word, lemma, tag (Penn), upos, flag (CMP = comparative, SUP = superlative, CAP = capitalised)
#   []            any one token
#   @NAME         a macro from the file's `macros` (expanded in parentheses, so `@NP?` works)
#   ( a | b )     grouping and alternation; ? * + {m,n} after an atom or group repeat it
#   !( ... )      negative lookahead: what follows must not match;  &( ... ) positive lookahead
#   { ... }       the part of the match to report (default: all of it);  ^ $  sentence start and end

_FIELDS = ("word", "lemma", "tag", "upos", "flag")
_ANY_FIELD = r"[^|>]*"
_SCAN = re.compile(r"\s*(\[[^\]]*\]|@[A-Z_0-9]+|!\(|&\(|\{\d*(?:,\d*)?\}\??|[()|?*+^${}])")


def _field_regex(attr: str, op: str, values: str) -> str:
    """Regex for one field constraint."""
    if op == "~=":
        return "(?:" + re.sub(r"(?<!\\)\.", "[^|>]", values) + ")"
    alternatives = "|".join(re.escape(v) for v in values.split("|"))
    if attr == "flag":
        inner = f"{_ANY_FIELD},(?:{alternatives}),{_ANY_FIELD}"
        return inner if op == "=" else f"(?!{inner}[|>]){_ANY_FIELD}"
    return f"(?:{alternatives})" if op == "=" else f"(?!(?:{alternatives})[|>]){_ANY_FIELD}"


def _atom_regex(atom: str) -> str:
    """Regex for a bracketed token atom."""
    fields = dict.fromkeys(_FIELDS, _ANY_FIELD)
    for constraint in atom[1:-1].split():
        match = re.fullmatch(r"(word|lemma|tag|upos|flag)(!=|~=|=)(.+)", constraint)
        if not match:
            raise ValueError(f"bad constraint {constraint!r} in {atom}")
        attr, op, values = match.groups()
        if fields[attr] != _ANY_FIELD:
            raise ValueError(f"two constraints on {attr} in {atom}: use one with alternatives")
        fields[attr] = _field_regex(attr, op, values)
    return "(?:<" + r"\|".join(fields[f] for f in _FIELDS) + ">)"


def expand_macros(pattern: str, macros: dict[str, str], depth: int = 0) -> str:
    """Replace @NAME by its macro text in parentheses (macros may use macros)."""
    if depth > 10:
        raise ValueError("macros nest too deeply (a macro probably refers to itself)")

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in macros:
            raise ValueError(f"unknown macro @{name}")
        return "( " + expand_macros(macros[name], macros, depth + 1) + " )"

    return re.sub(r"@([A-Z_0-9]+)", substitute, pattern)


def compile_pattern(pattern: str, macros: dict[str, str] | None = None) -> re.Pattern[str]:
    """Compile a token pattern (see the comment above) to a regex over encoded sentences."""
    text = expand_macros(pattern, macros or {})
    out: list[str] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _SCAN.match(text, pos)
        if not match:
            raise ValueError(f"cannot read pattern at {text[pos : pos + 30]!r}")
        out.append(_translate(match.group(1)))
        pos = match.end()
    return re.compile("".join(out))


def _translate(piece: str) -> str:
    """Regex for one lexical piece of a pattern."""
    if piece.startswith("["):
        return _atom_regex(piece)
    if piece.startswith("{") and len(piece) > 1:
        return piece  # a {m,n} quantifier
    return {"(": "(?:", "!(": "(?!", "&(": "(?=", "{": "(?P<focus>", "}": ")"}.get(piece, piece)


# --- encoding sentences ---------------------------------------------------------------------------------------


def _clean(value: str) -> str:
    """A field value with the characters the encoding uses replaced."""
    return value.replace("|", "¦").replace("<", "‹").replace(">", "›")


def _flags(token: TokenLike) -> str:
    """Derived token features, so patterns survive tagger slips ('Did she laugh/IN?', 'a barking/NN dog').

    CMP/SUP: comparative/superlative form; PP: a past-participle form of some verb; BASE: a base form of some verb;
    ING: an -ing form of some verb; ADJ: can be an adjective; CAP: capitalised.
    """
    return _word_flags(token.lower, token.tag, token.upos, token.text[:1].isupper())


@lru_cache(maxsize=65536)
def _word_flags(word: str, tag: str, upos: str, capitalised: bool) -> str:
    """The flags of one word form (cached: the same words recur)."""
    from lemminflect import getAllLemmas, getInflection

    flags = [""]
    lemmas = getAllLemmas(word) if word.replace("-", "").replace("'", "").isalpha() else {}
    verbs = lemmas.get("VERB", ())
    graded = [lemma for key in ("ADJ", "ADV") for lemma in lemmas.get(key, ()) if lemma != word]
    if word not in ("more", "less", "most", "least"):
        if tag in ("JJR", "RBR") or (graded and word.endswith("er")):
            flags.append("CMP")
        if tag in ("JJS", "RBS") or (graded and word.endswith("est")):
            flags.append("SUP")
    if any(word in getInflection(v, tag="VBN") for v in verbs):
        flags.append("PP")
    if word in verbs:
        flags.append("BASE")
    if word.endswith("ing") and any(word in getInflection(v, tag="VBG") for v in verbs):
        flags.append("ING")
    if "ADJ" in lemmas or upos == "ADJ":
        flags.append("ADJ")
    if capitalised:
        flags.append("CAP")
    return ",".join([*flags, ""])


def encode(tokens: Sequence[TokenLike]) -> tuple[str, list[int]]:
    """One sentence as '<word|lemma|tag|upos|flags>...' and the offset where each token starts."""
    parts: list[str] = []
    offsets: list[int] = []
    at = 0
    for token in tokens:
        piece = "<" + "|".join(
            (_clean(token.lower), _clean(token.lemma.lower()), _clean(token.tag), token.upos, _flags(token))
        ) + ">"  # fmt: skip
        offsets.append(at)
        parts.append(piece)
        at += len(piece)
    return "".join(parts), offsets


def _ends_with(tokens: Sequence[TokenLike], mark: str) -> bool:
    """Whether the sentence ends with the mark (closing quotes and brackets ignored)."""
    for token in reversed(tokens):
        if token.text in ('"', "'", "”", "’", ")", "''"):
            continue
        return token.text.endswith(mark)
    return False


# --- the profile ----------------------------------------------------------------------------------------------


def first_level(value: str) -> Level | None:
    """The lowest level of the first range of a column value: 'A1-A2, C1' -> A1, 'B2-B1' -> B1, 'N/A' -> None."""
    text = value.replace("ー", "-").replace("、", ",").replace("*", "").strip()
    first = text.split(",")[0]
    found = _LEVEL_TOKEN.findall(first.upper())
    return min(parse_level(f) for f in found) if found else None


def item_level(row: dict[str, str]) -> tuple[Level | None, str]:
    """The level of a profile row and the column it came from (see the module docstring)."""
    for column in LEVEL_COLUMNS:
        level = first_level(row.get(column) or "")
        if level is not None:
            return level, column
    return None, "none"


def _repair_row(row: dict[str, str]) -> dict[str, str]:
    """Undo the one-column shift of rows 132-136 (sentence type missing, levels moved one column left)."""
    code, sentence_type = row["Shorthand Code"], row["Sentence Type"]
    shifted = _TYPE_SUFFIX.match(code) and not re.search(r"AFF|NEG|EXCL|IMP", sentence_type)
    if not shifted:
        return row
    fixed = dict(row)
    fixed["Sentence Type"] = _SENTENCE_TYPES[_TYPE_SUFFIX.match(code).group(1)]  # type: ignore[union-attr]
    order = ("Sentence Type", "CEFR-J Level", "FREQ*DISP", "Core Inventory", "EGP", "GSELO")
    for target, origin in zip(order[1:], order[:-1], strict=True):
        fixed[target] = row[origin]
    return fixed


def family_of(code: str) -> str:
    """The family of an item for prerequisites: the code's leading capitals ('TA.PRPF.AFF' -> 'TA')."""
    match = re.match(r"[A-Z]+", code)
    head = match.group(0) if match else code
    return _FAMILY_ALIASES.get(head, head)


def read_profile(editorial: dict[str, dict[str, str]] | None = None) -> list[GrammarItem]:
    """All rows of the vendored profile as items, with levels decided as the module docstring says."""
    try:
        text = (files("knowledge") / "data" / PROFILE_FILE).read_text(encoding="utf-8")
    except OSError as exc:
        raise ResourceError(f"Vendored grammar profile knowledge/data/{PROFILE_FILE} is missing.") from exc
    items: dict[str, GrammarItem] = {}
    for line, raw in enumerate(csv.DictReader(text.splitlines()), start=2):
        item = _item_from_row(_repair_row(raw), line, items, editorial or {})
        items[item.id] = item
    return list(items.values())


def _item_from_row(
    row: dict[str, str], line: int, seen: dict[str, GrammarItem], editorial: dict[str, dict[str, str]]
) -> GrammarItem:
    """One item; variants without a level of their own inherit the parent's, then editorial levels apply."""
    item_id = row["ID"].strip()
    parent = item_id.split("-")[0] if "-" in item_id else None
    level, source = item_level(row)
    if level is None and parent in seen and seen[parent].level is not None:
        level, source = seen[parent].level, f"parent {parent}"
    if level is None and item_id in editorial:
        level, source = parse_level(editorial[item_id]["level"]), "editorial"
    return GrammarItem(
        id=item_id, code=row["Shorthand Code"].strip(), name=row["Grammatical Item"].strip(),
        sentence_type=row["Sentence Type"].strip(), level=level, level_source=source,
        raw_levels={c: (row.get(c) or "").strip() for c in LEVEL_COLUMNS}, parent=parent,
        family=family_of(row["Shorthand Code"]), row=line, notes=(row.get("Notes") or "").strip(),
    )  # fmt: skip


# --- detector definitions -------------------------------------------------------------------------------------

_TEMPLATES: dict[str, dict[str, str]] = {
    # finite operator (be, have, modal) carries tense, negation and inversion
    "operator": {
        "AFF": "{subj_tail} @ADVS {op} @ADVS {rest} !( @NOT )",
        "NEG": "{subj_tail} @ADVS {op} @NOT @ADVS {rest}",
        "INT.AFF": "^ @QLEAD {{ {op} {subj} @ADVS {rest} }} !( @NOT )",
        "INT.NEG": "^ @QLEAD {{ ( {op} @NOT {subj} | {op} {subj} @NOT ) @ADVS {rest} }}",
    },
    # lexical verbs: do-support in negatives and questions
    "do": {
        "AFF": "{subj_tail} @ADVS {verb} {rest}",
        "NEG": "{subj_tail} @ADVS {do} @NOT @ADVS {base} {rest}",
        "INT.AFF": "^ @QLEAD {{ {do} {subj} @ADVS {base} {rest} }}",
        "INT.NEG": "^ @QLEAD {{ ( {do} @NOT {subj} | {do} {subj} @NOT ) @ADVS {base} {rest} }}",
    },
}
_QUESTION = {"AFF": False, "NEG": False, "INT.AFF": True, "INT.NEG": True}


@dataclass
class DetectorSpec:
    """A detector before compilation: pattern text, sentence conditions and examples."""

    item_id: str
    pattern: str
    question: bool | None = None
    exclamation: bool | None = None
    positive: list[str] = field(default_factory=list)
    negative: list[str] = field(default_factory=list)


def family_specs(family: dict[str, Any]) -> list[DetectorSpec]:
    """The four detectors (AFF, NEG, INT.AFF, INT.NEG) a template family defines; siblings' positives are negatives."""
    template = _TEMPLATES[family["template"]]
    values = {"subj_tail": "@SUBJ_TAIL", "subj": "@SUBJ", "rest": "", **family.get("slots", {})}
    positives: dict[str, list[str]] = family.get("positive", {})
    specs: list[DetectorSpec] = []
    for kind, item_id in family["items"].items():
        if item_id is None:
            continue
        spec = DetectorSpec(str(item_id), template[kind].format(**values), question=_QUESTION[kind])
        spec.positive = list(positives.get(str(item_id), []))
        spec.negative = [s for other, ss in positives.items() if other != str(item_id) for s in ss]
        spec.negative += family.get("negative", [])
        specs.append(spec)
    return specs


def load_detector_specs(document: dict[str, Any]) -> list[DetectorSpec]:
    """Detector specs of the data file: template families first, then single detectors."""
    specs = [spec for family in document.get("families", []) for spec in family_specs(family)]
    for item_id, entry in (document.get("detectors") or {}).items():
        spec = DetectorSpec(str(item_id), entry["pattern"], entry.get("question"), entry.get("exclamation"))
        spec.positive = list(entry.get("positive", []))
        spec.negative = list(entry.get("negative", []))
        specs.append(spec)
    return specs


def compile_specs(specs: Iterable[DetectorSpec], macros: dict[str, str]) -> list[Detector]:
    """Compile every spec; a broken pattern is a ResourceError naming the item."""
    detectors: list[Detector] = []
    for spec in specs:
        try:
            regex = compile_pattern(spec.pattern, macros)
        except (ValueError, re.error) as exc:
            raise ResourceError(f"Grammar detector for item {spec.item_id} does not compile: {exc}") from exc
        examples = {"positive": tuple(spec.positive), "negative": tuple(spec.negative)}
        detectors.append(Detector(spec.item_id, spec.pattern, regex, spec.question, spec.exclamation, **examples))
    return detectors


class GrammarProfile:
    """The grammar items with levels, prerequisites and detectors."""

    def __init__(
        self, items: list[GrammarItem], specs: list[DetectorSpec], macros: dict[str, str], editorial: dict[str, Any]
    ) -> None:
        self._items = {item.id: item for item in items}
        self._specs = specs
        self._macros = macros
        self._compiled: list[Detector] | None = None
        self._editorial = editorial

    @classmethod
    def load(cls) -> GrammarProfile:
        """The profile and detectors of the vendored files (read once per process)."""
        return _cached_profile()

    def items(self) -> list[GrammarItem]:
        """All items in profile order."""
        return list(self._items.values())

    def item(self, item_id: str) -> GrammarItem:
        """An item by its profile id ('62', '62-1') or shorthand code ('TA.PRPF.AFF')."""
        key = str(item_id).strip()
        if key in self._items:
            return self._items[key]
        for item in self._items.values():
            if item.code.lower() == key.lower():
                return item
        raise UserInputError(
            f"No grammar item {key[:40]!r}; give a CEFR-J Grammar Profile id such as '62' or '62-1', "
            "or a shorthand code such as 'TA.PRPF.AFF'."
        )

    def detectors(self) -> list[Detector]:
        """Every detector, compiled on first use (about a second), in data-file order."""
        if self._compiled is None:
            self._compiled = compile_specs(self._specs, self._macros)
        return list(self._compiled)

    def detected_items(self) -> set[str]:
        """Ids of the items that have a detector."""
        return {spec.item_id for spec in self._specs}

    def prerequisites(self, item_id: str) -> list[str]:
        """Ids of the items this one builds on: its parent, lower family items, editorial links (see docs)."""
        item = self.item(item_id)
        found: list[str] = [item.parent] if item.parent else []
        found += self._family_prerequisites(item)
        found += [str(p) for p in self._editorial.get(item.id, {}).get("requires", [])]
        return list(dict.fromkeys(p for p in found if p in self._items and p != item.id))

    def _family_prerequisites(self, item: GrammarItem) -> list[str]:
        """Main items of the same family at the highest level below this main item's level."""
        if item.parent is not None or item.level is None:
            return []
        lower = [
            other
            for other in self._items.values()
            if other.parent is None and other.family == item.family and other.level is not None
            and other.level < item.level
        ]  # fmt: skip
        if not lower:
            return []
        top = max((other.level for other in lower if other.level is not None), key=lambda level: level.rank)
        return [other.id for other in lower if other.level == top]

    def detect(self, text_or_tokens: str | Sequence[TokenLike]) -> list[GrammarMatch]:
        """Every occurrence of every detectable item, in text order (a text is analysed with knowledge.nlp)."""
        tokens, source = self._tokens(text_or_tokens)
        by_sentence: dict[int, list[TokenLike]] = defaultdict(list)
        for token in tokens:
            by_sentence[token.sentence].append(token)
        matches = [m for group in by_sentence.values() for m in self._detect_sentence(group, source)]
        return sorted(matches, key=lambda m: (m.span, m.item_id))

    def _tokens(self, text_or_tokens: str | Sequence[TokenLike]) -> tuple[Sequence[TokenLike], str | None]:
        """Tokens to match and the original text (None when tokens were given)."""
        if isinstance(text_or_tokens, str):
            from knowledge.nlp import analyze

            return analyze(text_or_tokens), text_or_tokens
        return text_or_tokens, None

    def _detect_sentence(self, tokens: Sequence[TokenLike], source: str | None) -> list[GrammarMatch]:
        """Matches of every detector in one sentence."""
        encoded, offsets = encode(tokens)
        question, exclamation = _ends_with(tokens, "?"), _ends_with(tokens, "!")
        found: list[GrammarMatch] = []
        for detector in self.detectors():
            if detector.question is not None and detector.question != question:
                continue
            if detector.exclamation is not None and detector.exclamation != exclamation:
                continue
            for match in detector.regex.finditer(encoded):
                found.extend(self._match(detector, match, tokens, offsets, source))
        return found

    def _match(
        self,
        detector: Detector,
        match: re.Match[str],
        tokens: Sequence[TokenLike],
        offsets: list[int],
        source: str | None,
    ) -> list[GrammarMatch]:
        """The GrammarMatch for one regex match (none for an empty match)."""
        group = "focus" if "focus" in detector.regex.groupindex and match.group("focus") is not None else 0
        start, end = match.span(group)
        if end <= start:
            return []
        first, last = bisect_right(offsets, start) - 1, bisect_right(offsets, end - 1) - 1
        span = (tokens[first].start, tokens[last].end)
        text = source[span[0] : span[1]] if source is not None else " ".join(t.text for t in tokens[first : last + 1])
        item = self._items[detector.item_id]
        return [GrammarMatch(item_id=item.id, level=item.level, span=span, text=text)]


def load_detector_document() -> dict[str, Any]:
    """The parsed grammar-detectors.yaml."""
    try:
        text = (files("knowledge") / "data" / DETECTORS_FILE).read_text(encoding="utf-8")
        document = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except (OSError, yaml.YAMLError) as exc:
        raise ResourceError(f"knowledge/data/{DETECTORS_FILE} is missing or not valid YAML: {exc}") from exc
    if not isinstance(document, dict):
        raise ResourceError(f"knowledge/data/{DETECTORS_FILE} must be a mapping with macros, families, detectors.")
    return document


@cache
def _cached_profile() -> GrammarProfile:
    """The process-wide grammar profile."""
    document = load_detector_document()
    editorial = {str(k): v for k, v in (document.get("editorial") or {}).items()}
    items = read_profile(editorial)
    known = {item.id for item in items}
    specs = load_detector_specs(document)
    unknown = sorted({s.item_id for s in specs} - known)
    if unknown:
        raise ResourceError(f"{DETECTORS_FILE} has detectors for items not in the profile: {', '.join(unknown)}")
    return GrammarProfile(items, specs, document.get("macros") or {}, editorial)
