"""IMS QTI 2.1: a content package (.zip) for learning platforms that import QTI (TAO, ONYX, OpenOlat, Inspera …).

The package holds imsmanifest.xml (IMS Content Packaging 1.1), one assessmentItem file per item of the set under
items/, and test.xml, an assessmentTest that lists the items in set order and adds up their scores. Every file is
valid against the published IMS schemas (imsqti_v2p1.xsd, imscp_v1p1.xsd). How each exercise type maps, using the
interactions QTI has for it (see `questions`):

- gap_fill → inlineChoiceInteraction in the gap of the sentence (the options in a drop-down), scored by the
  match_correct template.
- open_gap, word_formation → textEntryInteraction in the gap; every accepted answer is mapped to 1 point, any
  letter case (map_response template).
- reorder → orderInteraction over the chunks as shown, the right order as correct response; should no order of
  the chunks spell the sentence, a textEntryInteraction of the sentence instead.
- error_correction → the sentence, then a textEntryInteraction for the corrected word(s) (or whole sentence).
- matching → matchInteraction: words and meanings (distractors included) as two match sets, one point per right
  pair (map_response).
- reading → one item holding the passage once and one choiceInteraction per comprehension question (True/False
  ones as two choices), each right answer adding a point. QTI 2.1 has no shared stimulus, and one item keeps the
  text next to its questions.

Written with lxml (which python-docx needs anyway): each file declares its namespace as the default one.
"""

from __future__ import annotations

import io
import re
import zipfile
from typing import Any, NamedTuple

from lxml import etree

from agents.exercise_session.formats.questions import BankItem, BankQuestion, bank_items
from agents.exercise_session.formats.sheet import ExportSheet

QTI = "http://www.imsglobal.org/xsd/imsqti_v2p1"
CP = "http://www.imsglobal.org/xsd/imscp_v1p1"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
QTI_XSD = "http://www.imsglobal.org/xsd/qti/qtiv2p1/imsqti_v2p1.xsd"
CP_XSD = "http://www.imsglobal.org/xsd/imscp_v1p1.xsd"
TEMPLATES = "http://www.imsglobal.org/question/qti_v2p1/rptemplates/"
#: lxml's element type (lxml ships no type information).
Element = Any
_GAP_RE = re.compile(r"_{3,}")


def render(sheet: ExportSheet) -> bytes:
    """The zip of the package."""
    items = bank_items(sheet)
    files = {f"items/{_item_id(i)}.xml": _xml(_assessment_item(i)) for i in items}
    files["test.xml"] = _xml(_assessment_test(sheet, items))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("imsmanifest.xml", _xml(_manifest(sheet, items)))
        for name, data in files.items():
            package.writestr(name, data)
    return buffer.getvalue()


def _xml(root: Element) -> bytes:
    """A file's bytes: XML declaration, indented."""
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))


def _root(tag: str, ns: str, schema: str, **attrs: str) -> Element:
    """A file's root element: its namespace the default one, with the schema location of that namespace."""
    root = etree.Element(f"{{{ns}}}{tag}", attrs, nsmap={None: ns, "xsi": XSI})
    root.set(f"{{{XSI}}}schemaLocation", f"{ns} {schema}")
    return root


def _el(parent: Element, tag: str, text: str | None = None, ns: str = QTI, **attrs: str) -> Element:
    """A QTI (or `ns`) element under `parent`, with attributes and text."""
    element = etree.SubElement(parent, f"{{{ns}}}{tag}", attrs)
    element.text = text
    return element


def _item_id(item: BankItem) -> str:
    """The item's identifier and file name."""
    return f"item-{item.number:02d}"


# The package and the test.


def _manifest(sheet: ExportSheet, items: list[BankItem]) -> Element:
    """imsmanifest.xml: the test and every item as resources."""
    manifest = _root("manifest", CP, CP_XSD, identifier=f"MANIFEST-{sheet.session}-v{sheet.version}")
    metadata = _el(manifest, "metadata", ns=CP)
    _el(metadata, "schema", "QTIv2.1 Package", ns=CP)
    _el(metadata, "schemaversion", "1.0.0", ns=CP)
    _el(manifest, "organizations", ns=CP)
    resources = _el(manifest, "resources", ns=CP)
    test = _el(resources, "resource", ns=CP, identifier="RES-test", type="imsqti_test_xmlv2p1", href="test.xml")
    _el(test, "file", ns=CP, href="test.xml")
    for item in items:
        _el(test, "dependency", ns=CP, identifierref=f"RES-{_item_id(item)}")
    for item in items:
        href = f"items/{_item_id(item)}.xml"
        resource = _el(resources, "resource", ns=CP, identifier=f"RES-{_item_id(item)}",
                       type="imsqti_item_xmlv2p1", href=href)
        _el(resource, "file", ns=CP, href=href)
    return manifest


def _assessment_test(sheet: ExportSheet, items: list[BankItem]) -> Element:
    """test.xml: the items in set order, one section, the total score summed from the items'."""
    test = _root("assessmentTest", QTI, QTI_XSD, identifier="test", title=sheet.title, toolName="Pedagogical Forge")
    _score(test, "SCORE")
    part = _el(test, "testPart", identifier="part-1", navigationMode="nonlinear", submissionMode="individual")
    section = _el(part, "assessmentSection", identifier="section-1", title=sheet.subtitle, visible="true")
    for item in items:
        _el(section, "assessmentItemRef", identifier=_item_id(item), href=f"items/{_item_id(item)}.xml")
    processing = _el(test, "outcomeProcessing")
    total = _el(processing, "setOutcomeValue", identifier="SCORE")
    _el(_el(total, "sum"), "testVariables", variableIdentifier="SCORE")
    return test


# One assessmentItem per item.


class _Part(NamedTuple):
    """One question of an item with the identifiers it is written under."""

    question: BankQuestion
    response: str = "RESPONSE"
    prefix: str = ""


def _parts(item: BankItem) -> list[_Part]:
    """The questions of an item: one RESPONSE, or RESPONSE_n with choices Qn_… for each question of a reading."""
    if not item.passage:
        return [_Part(item.questions[0])]
    return [_Part(q, f"RESPONSE_{n}", f"Q{n}_") for n, q in enumerate(item.questions, 1)]


def _assessment_item(item: BankItem) -> Element:
    """The item file: declarations, body and response processing."""
    root = _root("assessmentItem", QTI, QTI_XSD, identifier=_item_id(item), title=item.title, adaptive="false",
                 timeDependent="false")
    root.set(XML_LANG, "en")
    parts = _parts(item)
    for part in parts:
        _response(root, part)
    _score(root, "SCORE")
    _score(root, "MAXSCORE", str(_max_score(item)))
    body = _el(root, "itemBody")
    if item.passage:
        passage = _el(body, "div")
        _el(passage, "h2", item.passage.title)
        _paragraphs(passage, item.passage.text)
    _el(body, "p", item.passage.instructions if item.passage else item.questions[0].instructions)
    templates = [_interaction(body, part, inline=not item.passage) for part in parts]
    if item.passage:
        _sum_of_correct(_el(root, "responseProcessing"), [p.response for p in parts])
    else:
        _el(root, "responseProcessing", template=TEMPLATES + templates[0])
    return root


def _max_score(item: BankItem) -> int:
    """What a fully right answer scores: a point per pair of a matching, per question of a reading, else one."""
    return len(item.questions[0].pairs) if item.questions[0].kind == "matching" else len(item.questions)


def _score(parent: Element, identifier: str, default: str = "0") -> None:
    """A float outcome with its default value."""
    outcome = _el(parent, "outcomeDeclaration", identifier=identifier, cardinality="single", baseType="float")
    _el(_el(outcome, "defaultValue"), "value", default)


def _paragraphs(parent: Element, text: str) -> None:
    """Text as <p> paragraphs, one per line."""
    for line in text.splitlines():
        if line.strip():
            _el(parent, "p", line.strip())


# Interactions: each writes its part of the body and says which response processing template scores it.


def _interaction(body: Element, part: _Part, *, inline: bool) -> str:
    """Write the question's interaction into the body; the name of its scoring template."""
    q = part.question
    if q.kind == "multichoice" and inline and _gapped(q.text):
        return _inline_choice(body, part)
    if q.kind in ("multichoice", "truefalse"):
        return _choice(body, part)
    if q.kind == "matching":
        return _match(body, part)
    if q.kind == "ordering" and q.order:
        return _order(body, part)
    return _text_entry(body, part)


def _gapped(text: str) -> bool:
    """Whether a stem has exactly one gap to put the interaction in."""
    return len(_GAP_RE.findall(text)) == 1


def _in_gap(body: Element, text: str, tag: str, **attrs: str) -> Element:
    """A paragraph of the stem with an inline interaction where its gap is."""
    before, after = _GAP_RE.split(text, maxsplit=1)
    paragraph = _el(body, "p", before)
    interaction = _el(paragraph, tag, **attrs)
    interaction.tail = after
    return interaction


def _choices(part: _Part) -> list[tuple[str, str, bool]]:
    """(identifier, text, right) of the options of a choice question (True and False for a statement)."""
    q, prefix = part.question, part.prefix
    if q.kind == "truefalse":
        return [(f"{prefix}TRUE", "True", bool(q.truth)), (f"{prefix}FALSE", "False", not q.truth)]
    return [(f"{prefix}C{n}", c.text, c.correct) for n, c in enumerate(q.choices, 1)]


def _inline_choice(body: Element, part: _Part) -> str:
    """A drop-down of the options in the gap."""
    interaction = _in_gap(body, part.question.text, "inlineChoiceInteraction", responseIdentifier=part.response,
                          shuffle="false")
    for identifier, text, _ in _choices(part):
        _el(interaction, "inlineChoice", text, identifier=identifier)
    return "match_correct"


def _choice(body: Element, part: _Part) -> str:
    """One choice out of the options."""
    interaction = _el(body, "choiceInteraction", responseIdentifier=part.response, shuffle="false", maxChoices="1")
    _el(interaction, "prompt", part.question.text)
    for identifier, text, _ in _choices(part):
        _el(interaction, "simpleChoice", text, identifier=identifier)
    return "match_correct"


def _match(body: Element, part: _Part) -> str:
    """Words and meanings (in the order the item shows them) as two match sets; each word takes one meaning."""
    q = part.question
    interaction = _el(body, "matchInteraction", responseIdentifier=part.response, shuffle="false",
                      maxAssociations=str(len(q.pairs)))
    words = _el(interaction, "simpleMatchSet")
    for n, (word, _) in enumerate(q.pairs, 1):
        _el(words, "simpleAssociableChoice", word, identifier=f"W{n}", matchMax="1")
    meanings = _el(interaction, "simpleMatchSet")
    for n, meaning in enumerate(q.meanings, 1):
        _el(meanings, "simpleAssociableChoice", meaning, identifier=f"M{n}", matchMax="1")
    return "map_response"


def _order(body: Element, part: _Part) -> str:
    """The chunks to put in order."""
    interaction = _el(body, "orderInteraction", responseIdentifier=part.response, shuffle="false")
    _el(interaction, "prompt", part.question.text)
    for n, chunk in enumerate(part.question.chunks, 1):
        _el(interaction, "simpleChoice", chunk, identifier=f"W{n}")
    return "match_correct"


def _text_entry(body: Element, part: _Part) -> str:
    """A typed answer: in the gap of the stem, or on a line after the sentence."""
    q = part.question
    length = str(max((len(a) for a in q.accepted), default=10) + 5)
    if _gapped(q.text):
        _in_gap(body, q.text, "textEntryInteraction", responseIdentifier=part.response, expectedLength=length)
    else:
        _el(body, "p", q.text)
        answer = _el(body, "p", "Your answer: ")
        _el(answer, "textEntryInteraction", responseIdentifier=part.response, expectedLength=length)
    return "map_response"


# Response declarations.


def _response(root: Element, part: _Part) -> None:
    """The declaration of a question's response: its type, correct response and, for typed answers, the mapping."""
    q, rid = part.question, part.response
    if q.kind == "matching":
        _matching_response(root, part)
    elif q.kind == "ordering" and q.order:
        declaration = _el(root, "responseDeclaration", identifier=rid, cardinality="ordered", baseType="identifier")
        _correct(declaration, [f"W{i + 1}" for i in q.order])
    elif q.kind in ("multichoice", "truefalse"):
        declaration = _el(root, "responseDeclaration", identifier=rid, cardinality="single", baseType="identifier")
        _correct(declaration, [identifier for identifier, _, right in _choices(part) if right][:1])
    else:
        declaration = _el(root, "responseDeclaration", identifier=rid, cardinality="single", baseType="string")
        _correct(declaration, q.accepted[:1])
        mapping = _el(declaration, "mapping", defaultValue="0")
        for accepted in q.accepted:
            _el(mapping, "mapEntry", mapKey=accepted, mappedValue="1", caseSensitive="false")


def _matching_response(root: Element, part: _Part) -> None:
    """Word-meaning pairs: the right ones, a point each."""
    q = part.question
    declaration = _el(root, "responseDeclaration", identifier=part.response, cardinality="multiple",
                      baseType="directedPair")
    pairs = [f"W{n} M{q.meanings.index(meaning) + 1}" for n, (_, meaning) in enumerate(q.pairs, 1)]
    _correct(declaration, pairs)
    mapping = _el(declaration, "mapping", defaultValue="0")
    for pair in pairs:
        _el(mapping, "mapEntry", mapKey=pair, mappedValue="1")


def _correct(declaration: Element, values: list[str]) -> None:
    """The correct response's values."""
    correct = _el(declaration, "correctResponse")
    for value in values:
        _el(correct, "value", value)


def _sum_of_correct(processing: Element, responses: list[str]) -> None:
    """Response processing of a reading item: a point for each question answered right."""
    for rid in responses:
        condition = _el(_el(processing, "responseCondition"), "responseIf")
        match = _el(condition, "match")
        _el(match, "variable", identifier=rid)
        _el(match, "correct", identifier=rid)
        total = _el(_el(condition, "setOutcomeValue", identifier="SCORE"), "sum")
        _el(total, "variable", identifier="SCORE")
        _el(total, "baseValue", "1", baseType="float")
