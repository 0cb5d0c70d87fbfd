"""Offline MiniLM embeddings (int8 ONNX + vendored tokenizer) and their chromadb embedding function."""

from __future__ import annotations

from pathlib import Path

import chromadb
import numpy as np
import pytest
from chromadb.config import Settings
from chromadb.utils.embedding_functions import known_embedding_functions

from knowledge.embeddings import (
    DIMENSIONS,
    MAX_LENGTH,
    ForgeEmbeddingFunction,
    MiniLMEncoder,
    default_encoder,
    embed,
    embed_one,
    installed_model_path,
    mean_pool_normalise,
    vendored_tokenizer_path,
)
from knowledge.errors import ResourceError, UserInputError


def test_vectors_are_unit_length_and_semantic() -> None:
    vectors = embed(["The cat sat on the mat.", "A kitten is resting on a rug.", "Stock markets fell sharply."])
    assert vectors.shape == (3, DIMENSIONS) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    similarity = vectors @ vectors.T
    assert similarity[0, 1] > 0.4 > similarity[0, 2]


def test_batching_and_order_do_not_change_vectors() -> None:
    texts = ["short", "a much longer sentence about cooking dinner for the family", "medium length text", "x"]
    together = embed(texts)
    one_by_one = np.stack([embed_one(t) for t in texts])
    assert np.allclose(together, one_by_one, atol=1e-4)
    small_batches = default_encoder().encode(texts, batch_size=1)
    assert np.allclose(together, small_batches, atol=1e-4)


def test_long_text_is_truncated_not_rejected() -> None:
    encoder = default_encoder()
    long_text = "word " * 2000
    assert len(encoder.token_ids(long_text)) == MAX_LENGTH
    assert embed([long_text]).shape == (1, DIMENSIONS)


def test_empty_input_and_bad_input() -> None:
    assert embed([]).shape == (0, DIMENSIONS)
    with pytest.raises(UserInputError):
        embed("not a list")
    with pytest.raises(UserInputError):
        embed([1, 2])  # type: ignore[list-item]


def test_mean_pool_ignores_padding() -> None:
    hidden = np.array([[[1.0, 0.0], [0.0, 1.0], [9.0, 9.0]]], dtype=np.float32)
    mask = np.array([[1, 1, 0]], dtype=np.int64)
    assert np.allclose(mean_pool_normalise(hidden, mask), [[2**-0.5, 2**-0.5]])


def test_missing_files_are_resource_errors(tmp_path: Path) -> None:
    with pytest.raises(ResourceError):
        MiniLMEncoder(installed_model_path(), tmp_path / "missing-tokenizer.json")
    bad_model = tmp_path / "model.onnx"
    bad_model.write_bytes(b"not an onnx model")
    with pytest.raises(ResourceError):
        MiniLMEncoder(bad_model, vendored_tokenizer_path())


def test_embedding_function_is_registered_and_configurable() -> None:
    assert known_embedding_functions[ForgeEmbeddingFunction.name()] is ForgeEmbeddingFunction
    function = ForgeEmbeddingFunction()
    rebuilt = ForgeEmbeddingFunction.build_from_config(function.get_config())
    assert isinstance(rebuilt, ForgeEmbeddingFunction) and not function.is_legacy()
    assert function.default_space() == "cosine"
    with pytest.raises(ResourceError):
        ForgeEmbeddingFunction.build_from_config({"model": "another-model"})


def test_persisted_collection_reopens_with_the_function(tmp_path: Path) -> None:
    settings = Settings(anonymized_telemetry=False)
    client = chromadb.PersistentClient(path=str(tmp_path / "db"), settings=settings)
    collection = client.create_collection("words", embedding_function=ForgeEmbeddingFunction())  # type: ignore[arg-type]
    collection.add(ids=["a", "b"], documents=["apple: a round fruit", "bicycle: a vehicle with two wheels"])
    del client, collection
    reopened = chromadb.PersistentClient(path=str(tmp_path / "db"), settings=settings).get_collection("words")
    hits = reopened.query(query_texts=["something to eat"], n_results=1)
    assert hits["ids"] == [["a"]]
