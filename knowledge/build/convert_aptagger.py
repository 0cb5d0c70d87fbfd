"""Convert the averaged-perceptron POS tagger of `textblob-aptagger` 0.2.0 into plain gzipped JSON.

Development time only. The PyPI wheel ships the trained model as a Python pickle (`trontagger-0.1.0.pickle`:
weights, tag dictionary, classes). Unpickling runs code, so the product never does it: this script unpickles the
file once, from a wheel the developer downloaded with `pip download --no-deps textblob-aptagger==0.2.0`, and writes
`knowledge/data/pos_tagger_ap.json.gz`, which `knowledge.tagger` reads.

Usage: python -m knowledge.build.convert_aptagger path/to/textblob_aptagger-0.2.0-py2.py3-none-any.whl
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import pickle
import zipfile
from pathlib import Path
from typing import Any

_MEMBER = "textblob_aptagger/trontagger-0.1.0.pickle"
_OUT = Path(__file__).resolve().parent.parent / "data" / "pos_tagger_ap.json.gz"
FORMAT_VERSION = 1


def read_pickle(wheel: Path) -> tuple[dict[str, dict[str, float]], dict[str, str], set[str]]:
    """Unpickle (weights, tagdict, classes) from the wheel; the pickle was written by Python 2, hence latin1."""
    with zipfile.ZipFile(wheel) as archive:
        raw = archive.read(_MEMBER)
    weights, tagdict, classes = pickle.loads(raw, encoding="latin1")  # trusted file, dev time only
    return weights, tagdict, classes


def to_document(wheel: Path) -> dict[str, Any]:
    """The JSON document: provenance, sorted classes, tag dictionary and sparse weights (feature -> tag -> w)."""
    weights, tagdict, classes = read_pickle(wheel)
    return {
        "format": "averaged-perceptron-pos/v1",
        "format_version": FORMAT_VERSION,
        "source": {
            "package": "textblob-aptagger 0.2.0 (PyPI)",
            "member": _MEMBER,
            "wheel_sha256": hashlib.sha256(wheel.read_bytes()).hexdigest(),
            "licence": "MIT, Copyright 2013 Matthew Honnibal",
        },
        "classes": sorted(classes),
        "tagdict": dict(sorted(tagdict.items())),
        "weights": {feat: dict(sorted(tags.items())) for feat, tags in sorted(weights.items())},
    }


def main() -> None:
    """Convert the wheel given on the command line and report what was written."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("wheel", type=Path, help="textblob_aptagger-0.2.0 wheel from `pip download --no-deps`")
    parser.add_argument("--out", type=Path, default=_OUT)
    args = parser.parse_args()
    document = to_document(args.wheel)
    payload = json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    # mtime=0 keeps the output byte-identical across runs.
    args.out.write_bytes(gzip.compress(payload, compresslevel=9, mtime=0))
    print(
        f"wrote {args.out} ({args.out.stat().st_size} bytes): {len(document['weights'])} features, "
        f"{len(document['tagdict'])} tagdict entries, {len(document['classes'])} classes"
    )


if __name__ == "__main__":
    main()
