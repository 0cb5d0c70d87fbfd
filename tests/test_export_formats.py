"""Classroom exports of an exercise set, each read back by an independent reader (never the library that wrote it).

A set with one hand-made item of every type (no model) is exported in every format: Moodle XML is checked with lxml
against what Moodle's importer needs; GIFT is parsed by pygiftparser; the QTI package is validated with lxml against
the published IMS QTI 2.1 and Content Packaging 1.1 schemas vendored under tests/data/qti; the Anki deck is read with
sqlite3 and imported into a real collection by the `anki` library; the PDF is read with pypdf and the Word file with
docx2python (and its raw XML). Then `write_export`'s paths and errors, the session turn, and `forge export`.
"""

from __future__ import annotations

import html
import io
import json
import sqlite3
import zipfile
from pathlib import Path
from typing import Any

import lxml.html
import pytest
from lxml import etree

from agents.exercise_session.commands import EXPORT_FORMATS, FORMAT_SUFFIXES, parse
from agents.exercise_session.export import write_export
from agents.exercise_session.formats import FORMATS, get_format
from agents.exercise_session.formats.questions import chunk_order
from agents.exercise_session.sets import ExerciseSet, SessionItem, SetVersion, plan
from knowledge.errors import UserInputError
from knowledge.items import (
    ErrorCorrectionItem,
    GapFillItem,
    Item,
    MatchingItem,
    OpenGapItem,
    Question,
    ReadingItem,
    ReorderItem,
    WordFormationItem,
)
from knowledge.levels import Level
from tests.support.cli_helpers import assert_clean_error, run_forge

QTI_SCHEMAS = Path(__file__).parent / "data" / "qti"
SESSION = "travel-b1"
B1 = Level.B1
# Texts hold every GIFT special character (~ = # { } :) and XML's (& < >) where a quiz tool keeps them: a stem's text
# around its gap, an answer, a meaning.
OPEN_STEM = "The museum {city centre} opens at 9:30 & closes _____ 6 p.m. ~ #history = fun <3"
GAP_FILL = GapFillItem(
    level=B1, topic="travel", instructions="Choose the word that fits the gap.",
    stem="We stayed at a small _____ near the station.", options=["ticket", "hotel", "journey", "passport"],
    answer="hotel", target_word="hotel", pos="noun",
)
OPEN_GAP = OpenGapItem(
    level=B1, topic="travel", instructions="Write one word in the gap.", stem=OPEN_STEM, answer="at",
    accepted_answers=["by"], focus="preposition",
)
WORD_FORMATION = WordFormationItem(
    level=B1, topic="travel", instructions="Use the word in capitals to form a word that fits.",
    stem="The tour was very well _____. (ORGANISE)", base_word="organise", answer="organised",
    accepted_answers=["organized"],
)
REORDER = ReorderItem(
    level=B1, topic="travel", instructions="Put the words in the right order to make a sentence.",
    stem="to / walked / the / we / station", chunks=["to", "walked", "the", "we", "station"],
    answer="We walked to the station.",
)
CORRECTION = ErrorCorrectionItem(
    level=B1, topic="travel", instructions="One word is wrong. Find it and correct it.",
    stem="Yesterday she buy two tickets: one for me & one for Tom.", error="buy", correction="bought",
    error_type="tense", answer="Yesterday she bought two tickets: one for me & one for Tom.",
)
MATCHING = MatchingItem(
    level=B1, topic="travel", instructions="Match each word with its meaning.",
    words=["luggage", "passport", "souvenir"],
    options=["a thing you buy to remember a place", "a long walk in the hills",
             "bags = cases you carry when you travel", "an official document: it shows who you are"],
    answer={"luggage": "bags = cases you carry when you travel",
            "passport": "an official document: it shows who you are",
            "souvenir": "a thing you buy to remember a place"},
)  # fmt: skip
READING = ReadingItem(
    level=B1, topic="travel", instructions="Read the text and answer the questions.", title="A weekend in York",
    text="Anna went to York by train. She visited the café next to the old walls and picked up a map.",
    questions=[
        Question(kind="multiple_choice", question="How did Anna travel to York?",
                 options=["By car", "By train", "By bus", "On foot"], answer="By train",
                 evidence="Anna went to York by train."),
        Question(kind="true_false", question="Anna picked up a map.", options=["True", "False"], answer="True",
                 evidence="She visited the café next to the old walls and picked up a map."),
    ],
)  # fmt: skip
ITEMS: list[Item] = [GAP_FILL, OPEN_GAP, WORD_FORMATION, REORDER, CORRECTION, MATCHING, READING]


def _set(items: list[Any] = ITEMS) -> ExerciseSet:
    """A B1 set of the given typed items, as the session keeps them."""
    session_items = [
        SessionItem(id=f"item{n}", type=i.type, level=i.level, topic=i.topic, status="accepted", item=i)
        for n, i in enumerate(items, 1)
    ]
    return ExerciseSet(level=B1, topic="travel", items=session_items)


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The set written once in every format."""
    out = tmp_path_factory.mktemp("exports")
    return {name: Path(write_export(_set(), session_id=SESSION, version=2, export_dir=out, fmt=name).path)
            for name in FORMATS}


def test_the_registry_knows_every_format_the_parser_names() -> None:
    from forge.cli.export import FORMAT_NAMES

    assert set(FORMATS) == set(EXPORT_FORMATS) and tuple(FORMATS) == FORMAT_NAMES
    for suffix, name in FORMAT_SUFFIXES.items():
        assert suffix in FORMATS[name].suffixes, (suffix, name)
    with pytest.raises(UserInputError, match="accepted formats: moodle, gift, qti, anki, pdf, docx, markdown, json"):
        get_format("pptx")


def test_every_format_is_written_under_its_default_name(exported: dict[str, Path]) -> None:
    assert {name: path.name for name, path in exported.items()} == {
        name: f"{SESSION}-v2{FORMATS[name].suffix}" for name in FORMATS
    }
    assert not [p for p in exported["pdf"].parent.iterdir() if p.name.endswith(".part")]


# Moodle XML


def _moodle_text(question: Any, path: str) -> str:
    """The plain text of an HTML <text> under a question."""
    value = question.findtext(path) or ""
    return lxml.html.fromstring(f"<div>{value}</div>").text_content() if value else ""


def test_moodle_xml_has_what_moodles_importer_reads(exported: dict[str, Path]) -> None:
    root = etree.parse(str(exported["moodle"])).getroot()
    assert root.tag == "quiz"
    questions = root.findall("question")
    assert [q.get("type") for q in questions] == [
        "category", "multichoice", "shortanswer", "shortanswer", "shortanswer", "shortanswer", "matching",
        "description", "multichoice", "truefalse",
    ]  # fmt: skip
    assert questions[0].findtext("category/text") == f"$course$/top/Pedagogical Forge/{SESSION} v2"
    for q in questions[1:]:
        assert q.findtext("name/text") and q.find("questiontext").get("format") == "html"
        assert q.findtext("questiontext/text")
    gap, open_gap, formation, reorder, correction, matching, text, choice, truth = questions[1:]
    answers = {a.findtext("text"): float(a.get("fraction")) for a in gap.findall("answer")}
    assert answers == {"ticket": 0, "hotel": 100, "journey": 0, "passport": 0} and gap.findtext("single") == "true"
    assert OPEN_STEM in _moodle_text(open_gap, "questiontext/text")  # escaped once: & < > come back as they were
    assert _short(open_gap) == {"at", "by"} and _short(formation) == {"organised", "organized"}
    assert _short(reorder) == {"We walked to the station.", "We walked to the station"}
    assert "bought" in _short(correction) and open_gap.findtext("usecase") == "0"
    rows = [(_html_text(s.findtext("text")), s.findtext("answer/text")) for s in matching.findall("subquestion")]
    assert rows == [*MATCHING.answer.items(), ("", "a long walk in the hills")]  # a distractor: no question
    assert "Anna went to York by train." in _moodle_text(text, "questiontext/text")
    assert float(text.findtext("defaultgrade") or 1) == 0
    assert {a.findtext("text"): a.get("fraction") for a in choice.findall("answer")}["By train"] == "100"
    assert {a.findtext("text"): a.get("fraction") for a in truth.findall("answer")} == {"true": "100", "false": "0"}
    assert _moodle_text(gap, "generalfeedback/text") == "Answer: hotel"


def _short(question: Any) -> set[str]:
    """The answers of a shortanswer question worth full marks."""
    return {a.findtext("text") for a in question.findall("answer") if a.get("fraction") == "100"}


def _html_text(value: str | None) -> str:
    """The text of an HTML fragment."""
    return lxml.html.fromstring(f"<div>{value}</div>").text_content() if value else ""


# GIFT


@pytest.mark.filterwarnings("ignore:'locale.getdefaultlocale' is deprecated:DeprecationWarning")
def test_gift_is_read_by_a_gift_parser(exported: dict[str, Path]) -> None:
    from pygiftparser import parser
    from pygiftparser.utils import transformSpecials  # the parser's own unescaping

    with exported["gift"].open(encoding="utf-8") as stream:
        questions = parser.parseFile(stream)
    assert all(q.valid for q in questions)
    kinds = [type(q.answers).__name__ for q in questions]
    assert kinds == ["SelectSet", "ShortSet", "ShortSet", "ShortSet", "ShortSet", "MatchingSet", "Description",
                     "SelectSet", "TrueFalseSet"]
    assert {q.cat for q in questions} == {"$course$/top/Pedagogical"}  # pygiftparser reads a category up to a space
    gap, open_gap, formation, reorder, correction, matching, _, choice, truth = questions
    right = [transformSpecials(a.answer).strip() for a in gap.answers.answers if a.fraction == 100]
    assert right == ["hotel"] and gap.tail == "near the station."  # missing-word form: the answers in the gap
    before, after = OPEN_STEM.split("_____")
    assert transformSpecials(open_gap.text).endswith(before.strip())
    assert transformSpecials(open_gap.tail) == after.strip()
    assert [transformSpecials(a.answer).strip() for a in open_gap.answers.answers] == ["at", "by"]
    assert [a.answer.strip() for a in formation.answers.answers] == ["organised", "organized"]
    assert {a.answer.strip() for a in reorder.answers.answers} == {REORDER.answer, REORDER.answer.rstrip(".")}
    assert transformSpecials(correction.answers.answers[1].answer).strip() == CORRECTION.answer
    pairs = {(a.question.strip(), transformSpecials(a.answer).strip()) for a in matching.answers.answers}
    assert pairs == {(w, m) for w, m in MATCHING.answer.items()}
    assert [a.answer.strip() for a in choice.answers.answers if a.fraction == 100] == ["By train"]
    assert truth.answers.answer is True and "Anna picked up a map." in truth.text
    assert transformSpecials(gap.generalFeedback) == "Answer: hotel"


# QTI


@pytest.fixture(scope="module")
def qti_schemas() -> tuple[etree.XMLSchema, etree.XMLSchema]:
    """The published IMS QTI 2.1 and IMS CP 1.1 schemas (and what they import), from local files only."""
    parser = etree.XMLParser(no_network=True)
    load = lambda name: etree.XMLSchema(etree.parse(str(QTI_SCHEMAS / name), parser))  # noqa: E731
    return load("qtiv2p1/imsqti_v2p1.xsd"), load("imscp_v1p1.xsd")


def _validated(schema: etree.XMLSchema, data: bytes) -> Any:
    """A parsed file, asserting it is valid against the schema."""
    document = etree.fromstring(data, etree.XMLParser(no_network=True)).getroottree()
    assert schema.validate(document), schema.error_log
    return document.getroot()


def test_qti_package_is_valid_against_the_ims_schemas(
    exported: dict[str, Path], qti_schemas: tuple[etree.XMLSchema, etree.XMLSchema]
) -> None:
    qti, cp = qti_schemas
    ns = {"q": "http://www.imsglobal.org/xsd/imsqti_v2p1", "c": "http://www.imsglobal.org/xsd/imscp_v1p1"}
    with zipfile.ZipFile(exported["qti"]) as package:
        names = set(package.namelist())
        manifest = _validated(cp, package.read("imsmanifest.xml"))
        items = {n: _validated(qti, package.read(n)) for n in sorted(names) if n.startswith("items/")}
        test = _validated(qti, package.read("test.xml"))
    listed = {f.get("href") for f in manifest.iterfind(".//c:file", ns)}
    assert listed == names - {"imsmanifest.xml"} and len(items) == len(ITEMS)
    types = {r.get("href"): r.get("type") for r in manifest.iterfind(".//c:resource", ns)}
    assert types["test.xml"] == "imsqti_test_xmlv2p1" and {types[n] for n in items} == {"imsqti_item_xmlv2p1"}
    assert [r.get("href") for r in test.iterfind(".//q:assessmentItemRef", ns)] == sorted(items)
    interactions = [[e.tag.split("}")[1] for e in root.iter() if str(e.tag).endswith("Interaction")]
                    for root in items.values()]
    assert interactions == [["inlineChoiceInteraction"], ["textEntryInteraction"], ["textEntryInteraction"],
                            ["orderInteraction"], ["textEntryInteraction"], ["matchInteraction"],
                            ["choiceInteraction", "choiceInteraction"]]
    gap, open_gap, _, reorder, _, matching, reading = items.values()
    assert _choice_text(gap, _correct(gap, ns)[0], ns) == "hotel"
    assert {e.get("mapKey") for e in open_gap.iterfind(".//q:mapEntry", ns)} == {"at", "by"}
    ordered = [_choice_text(reorder, c, ns) for c in _correct(reorder, ns)]
    assert " ".join(ordered) == "we walked to the station"
    pairs = {tuple(_choice_text(matching, i, ns) for i in v.split()) for v in _correct(matching, ns)}
    assert pairs == set(MATCHING.answer.items())
    assert [_choice_text(reading, v, ns) for v in _correct(reading, ns)] == ["By train", "True"]
    assert "Anna went to York by train." in "".join(reading.itertext())


def _correct(item: Any, ns: dict[str, str]) -> list[str]:
    """Every correct-response value of an item, in order."""
    return [v.text for v in item.iterfind(".//q:correctResponse/q:value", ns)]


def _choice_text(item: Any, identifier: str, ns: dict[str, str]) -> str:
    """The text of the choice with this identifier."""
    found = [e for e in item.iter() if e.get("identifier") == identifier and e.tag.endswith(("Choice", "choice"))]
    assert len(found) == 1, identifier
    return "".join(found[0].itertext()).strip()


def test_reorder_chunks_are_put_in_order_even_when_words_repeat() -> None:
    chunks = ["years", "for", "been", "few", "ambulance", "she's", "a", "working", "for", "the", "service"]
    order = chunk_order(chunks, "She's been working for the ambulance service for a few years.")
    assert order is not None and " ".join(chunks[i] for i in order) == (
        "she's been working for the ambulance service for a few years")
    assert chunk_order(["a", "b"], "c d.") is None


# Anki


def _anki_notes(path: Path) -> list[tuple[str, list[str], str]]:
    """(guid, fields, tags) of every note in an .apkg, read straight from its SQLite collection."""
    with zipfile.ZipFile(path) as apkg, sqlite3.connect(":memory:") as db:
        db.deserialize(apkg.read("collection.anki2"))
        rows = db.execute("SELECT guid, flds, tags FROM notes ORDER BY id").fetchall()
        decks, models = db.execute("SELECT decks, models FROM col").fetchone()
    assert any(d["name"] == f"Pedagogical Forge::{SESSION}" for d in json.loads(decks).values())
    assert [m["name"] for m in json.loads(models).values()] == ["Pedagogical Forge vocabulary"]
    return [(guid, flds.split("\x1f"), tags.strip()) for guid, flds, tags in rows]


def test_anki_deck_holds_the_vocabulary_and_reexports_update_it(exported: dict[str, Path], tmp_path: Path) -> None:
    notes = _anki_notes(exported["anki"])
    fronts = [html.unescape(fields[0]) for _, fields, _ in notes]
    assert len(fronts) == 6  # gap fill, open gap, word formation and the three pairs; no reorder/correction/reading
    assert fronts[0].startswith("We stayed at a small _____ near the station.") and fronts[3:] == [
        "luggage", "passport", "souvenir"]
    assert html.unescape(notes[3][1][1]) == "bags = cases you carry when you travel"
    assert "organised (also: organized)" in notes[2][1][1]
    assert sorted(notes[0][2].split()) == ["B1", "gap_fill", "travel"]
    changed = _set([GAP_FILL.model_copy(update={"stem": "We found a cheap _____ near the station."}), *ITEMS[1:]])
    again = Path(write_export(changed, session_id=SESSION, version=3, export_dir=tmp_path, fmt="anki").path)
    assert [guid for guid, _, _ in _anki_notes(again)] == [guid for guid, _, _ in notes]
    _import_twice(exported["anki"], again, tmp_path)


def _import_twice(first: Path, second: Path, tmp_path: Path) -> None:
    """Import two exports into a real Anki collection: the second updates the first's notes, adds none."""
    from anki.collection import Collection, ImportAnkiPackageOptions, ImportAnkiPackageRequest
    from anki.import_export_pb2 import ImportAnkiPackageUpdateCondition

    collection = Collection(str(tmp_path / "collection.anki2"))
    try:  # update whenever the guid matches (Anki's default, "if newer", compares times in whole seconds)
        always = ImportAnkiPackageUpdateCondition.IMPORT_ANKI_PACKAGE_UPDATE_CONDITION_ALWAYS
        options = ImportAnkiPackageOptions(with_scheduling=False, update_notes=always, update_notetypes=always)
        log = collection.import_anki_package(ImportAnkiPackageRequest(package_path=str(first), options=options)).log
        assert len(log.new) == 6
        log = collection.import_anki_package(ImportAnkiPackageRequest(package_path=str(second), options=options)).log
        assert (len(log.new), len(log.updated)) == (0, 6)  # every note found again by its guid, none added
        assert len(collection.find_notes("")) == 6
        assert f"Pedagogical Forge::{SESSION}" in [d.name for d in collection.decks.all_names_and_ids()]
        assert any("cheap" in collection.get_note(n).fields[0] for n in collection.find_notes(""))
    finally:
        collection.close()


# PDF and Word


ANSWERS_ONLY_IN_THE_KEY = ("organised", "bought", "We walked to the station.", "3-a")


def test_pdf_worksheet_with_the_key_on_its_own_page(exported: dict[str, Path]) -> None:
    from pypdf import PdfReader

    pages = [" ".join(p.extract_text().split()) for p in PdfReader(exported["pdf"]).pages]
    key_at = next(n for n, text in enumerate(pages) if text.startswith("Answer key"))
    sheet, key = " ".join(pages[:key_at]), " ".join(pages[key_at:])
    assert key_at >= 1 and "Name:" in sheet
    for expected in ("1. Gap fill", "7. Reading", "We stayed at a small _____ near the station.", "c) journey",
                     "9:30 & closes _____ 6 p.m.", "A weekend in York", "the café next to the old walls",
                     "souvenir", "to / walked / the / we / station"):
        assert expected in sheet, expected
    for answer in ANSWERS_ONLY_IN_THE_KEY:
        assert answer not in sheet and answer in key, answer
    assert "buy → bought" in key and "1. b) hotel" in key  # the Unicode font prints the arrow


def test_pdf_without_the_dejavu_font_falls_back_to_transliterated_core_fonts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pypdf import PdfReader

    monkeypatch.setattr("agents.exercise_session.formats.pdf.font_dir", lambda: None)
    path = write_export(_set(), session_id=SESSION, version=2, export_dir=tmp_path, fmt="pdf").path
    text = " ".join(" ".join(p.extract_text().split()) for p in PdfReader(path).pages)
    assert "buy -> bought" in text and "the café next to the old walls" in text  # Latin-1 keeps the é


def test_docx_worksheet_with_the_key_after_a_page_break(exported: dict[str, Path]) -> None:
    from docx2python import docx2python

    with docx2python(exported["docx"]) as document:
        paragraphs = [p.strip() for p in document.text.split("\n") if p.strip()]
    key_at = paragraphs.index("Answer key")
    sheet, key = " ".join(paragraphs[:key_at]), " ".join(paragraphs[key_at:])
    assert "6. Matching" in sheet and "a) a thing you buy to remember a place" in sheet and OPEN_STEM in sheet
    for answer in ANSWERS_ONLY_IN_THE_KEY:
        assert answer not in sheet and answer in key, answer
    with zipfile.ZipFile(exported["docx"]) as package:
        body = etree.fromstring(package.read("word/document.xml"))
    w = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
    texts = ["".join(p.itertext()) for p in body.iter(f"{w}p")]
    breaks = [n for n, p in enumerate(body.iter(f"{w}p")) if any(b.get(f"{w}type") == "page" for b in p.iter(f"{w}br"))]
    assert breaks and texts[breaks[-1] + 1] == "Answer key"


def test_markdown_and_json_are_made_from_the_typed_items(exported: dict[str, Path]) -> None:
    text = exported["markdown"].read_text(encoding="utf-8")
    sheet, key = text.split("## Answer key")
    assert "## 1. Gap fill" in sheet and "*Choose the word that fits the gap.*" in sheet and "b) hotel" in sheet
    assert all(answer not in sheet and answer in key for answer in ANSWERS_ONLY_IN_THE_KEY)
    document = json.loads(exported["json"].read_text(encoding="utf-8"))
    assert document["version"] == 2 and [i["type"] for i in document["items"]] == [i.type for i in ITEMS]


# write_export: paths and errors


def test_write_export_paths(tmp_path: Path) -> None:
    current = _set(ITEMS[:1])
    pair = write_export(current, session_id="abcd1234", version=3, export_dir=tmp_path)
    assert pair.format is None and Path(pair.path) == Path(pair.markdown_path or "") == tmp_path / "abcd1234-v3.md"
    assert Path(pair.json_path or "").name == "abcd1234-v3.json" and len(pair.paths) == 2
    other = write_export(current, session_id="abcd1234", version=3, export_dir=tmp_path, path="out/set.json")
    assert (other.markdown_path or "").endswith("out/set.md")
    named = write_export(current, session_id="s", version=1, export_dir=tmp_path, path="gift/food", fmt="GIFT")
    assert named.format == "gift" and named.paths == [str(tmp_path / "gift" / "food.gift")] and named.json_path is None
    notes = write_export(current, session_id="s", version=1, export_dir=tmp_path, path="notes.txt", fmt="markdown")
    assert notes.markdown_path == str(tmp_path / "notes.txt")


def test_write_export_refuses_bad_requests_and_writes_nothing(tmp_path: Path) -> None:
    current = _set(ITEMS[:1])
    with pytest.raises(UserInputError, match=r"Unknown export format 'pptx'; accepted formats: moodle, .*json\."):
        write_export(current, session_id="s", version=1, export_dir=tmp_path, fmt="pptx")
    with pytest.raises(UserInputError, match=r"a moodle file ends in \.xml \(or give no ending\)"):
        write_export(current, session_id="s", version=1, export_dir=tmp_path, path="set.pdf", fmt="moodle")
    with pytest.raises(UserInputError, match=r"\.json, \.md or \.txt, or name a format"):
        write_export(current, session_id="s", version=1, export_dir=tmp_path, path="set.exe")
    with pytest.raises(UserInputError, match="no vocabulary items"):
        write_export(_set(ITEMS[3:5]), session_id="s", version=1, export_dir=tmp_path, fmt="anki")
    (tmp_path / "taken").write_text("a file where a folder should be")
    with pytest.raises(UserInputError, match=r"Cannot write the export to .*taken"):
        write_export(current, session_id="s", version=1, export_dir=tmp_path, path="taken/set.pdf", fmt="pdf")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken"]


def test_failed_rename_leaves_neither_file_nor_temporary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("agents.exercise_session.export.os.replace", refuse)
    with pytest.raises(UserInputError, match=r"Permission denied\); give a writable path"):
        write_export(_set(ITEMS[:1]), session_id="s", version=1, export_dir=tmp_path)
    assert list(tmp_path.iterdir()) == []


# The session turn and the CLI


def test_export_moodle_in_a_session_turn_reaches_the_step() -> None:
    parsed = parse("export moodle")
    assert [c.format for c in parsed.commands] == ["moodle"]
    step = plan(_set(), parsed.commands[0], [])
    assert step.export and step.export_format == "moodle" and step.export_path is None
    pdf = plan(_set(), parse("save it to sheets/week3.pdf").commands[0], [])
    assert (pdf.export_format, pdf.export_path) == ("pdf", "sheets/week3.pdf")


def _seed_session(data_dir: Path, session_id: str) -> None:
    """A stored exercise session whose one version is the hand-made set (no model, no item graph)."""
    from langgraph.graph import END, START, StateGraph

    from forge.sessions import open_store
    from graphs.exercise_session.state import ExerciseSessionState

    store = open_store(data_dir)
    try:
        store.create("exercises", title="travel at B1", session_id=session_id)
        version = SetVersion(number=1, message="by hand", changes=[], set=_set())
        graph = StateGraph(ExerciseSessionState)
        graph.add_node("seed", lambda _: {"versions": [version]})
        graph.add_edge(START, "seed")
        graph.add_edge("seed", END)
        app = graph.compile(checkpointer=store.checkpointer_for(ExerciseSessionState))
        app.invoke({"message": "by hand"}, store.config(session_id), durability="sync")
    finally:
        store.close()


def test_forge_export_command(isolated_env: Path, tmp_path: Path) -> None:
    _seed_session(isolated_env, "travel-b1")
    made = run_forge("export", "travel-b1", "--format", "qti", "--out", "week3", "--json", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    assert json.loads(made.stdout) == {"format": "qti", "path": str(tmp_path / "week3.zip"), "items": 7,
                                       "version": 1, "session": "travel-b1"}
    assert zipfile.ZipFile(io.BytesIO((tmp_path / "week3.zip").read_bytes())).testzip() is None
    plain = run_forge("export", "trav", "--format", "gift", cwd=tmp_path)
    assert plain.returncode == 0 and plain.stdout.count("\n") == 1
    assert str(isolated_env / "exports" / "travel-b1-v1.gift") in " ".join(plain.stdout.split())
    assert_clean_error(run_forge("export", "travel-b1", "--format", "pptx"), "Unknown export format 'pptx'",
                       "moodle, gift, qti, anki, pdf, docx, markdown, json")
    assert_clean_error(run_forge("export", "travel-b1", "--format", "pdf", "--out", "x.docx"), "ends in .pdf")
    assert_clean_error(run_forge("export", "travel-b1", "--format", "pdf", "--version", "4"), "no version 4")
    assert_clean_error(run_forge("export", "nobody", "--format", "pdf"), "No session 'nobody'")
