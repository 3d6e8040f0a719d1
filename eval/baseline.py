"""The plain llama-index baseline: SentenceSplitter chunks of the raw text + vector search.

It uses the same embedding model as the product, so the comparison measures
what the structure-aware index, BM25 and fusion add, not a better model.
"""

from __future__ import annotations

import bisect
import re
from pathlib import Path
from typing import Any

from llama_index.core import Document, VectorStoreIndex
from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.core.node_parser import SentenceSplitter
from pydantic import PrivateAttr

from assistant.embed import Embedder, EmbeddingCache


class LlamaEmbedding(BaseEmbedding):
    """Our sentence-transformers embedder behind llama-index's embedding interface."""

    _embedder: Embedder = PrivateAttr()
    _cache: EmbeddingCache | None = PrivateAttr(default=None)

    def __init__(self, embedder: Embedder, cache: EmbeddingCache | None = None, **kwargs: Any) -> None:
        super().__init__(model_name=embedder.model_id, embed_batch_size=16, **kwargs)
        self._embedder = embedder
        self._cache = cache

    def _get_query_embedding(self, query: str) -> list[float]:
        return self._embedder.queries([query])[0].tolist()

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._get_query_embedding(query)

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._get_text_embeddings([text])[0]

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        if self._cache is not None:
            return [v.tolist() for v in self._cache.embed(self._embedder, texts)]
        return [v.tolist() for v in self._embedder.documents(texts)]


class PlainLlamaIndexBaseline:
    """Chunks of the raw document text (no clean-up, no structure) in a VectorStoreIndex.

    A chunk counts as the measure in which it starts (by the "N." markers of
    the raw text), so hit@k is comparable with the structured retrievers.
    """

    def __init__(self, raw_path: Path, embedder: Embedder, cache_dir: Path, chunk_size: int = 200, chunk_overlap: int = 20) -> None:
        raw = raw_path.read_text(encoding="utf-8")
        self._starts, self._numbers = _measure_offsets(raw)
        cache = EmbeddingCache(cache_dir, embedder.model_id)
        splitter = SentenceSplitter(chunk_size=chunk_size, chunk_overlap=chunk_overlap)
        nodes = splitter.get_nodes_from_documents([Document(text=raw)])
        self.index = VectorStoreIndex(nodes, embed_model=LlamaEmbedding(embedder, cache), show_progress=False)
        cache.save()
        self.retriever = self.index.as_retriever(similarity_top_k=10)
        self.chunks = len(nodes)

    def measure_at(self, offset: int) -> int | None:
        i = bisect.bisect_right(self._starts, offset) - 1
        return self._numbers[i] if i >= 0 else None

    def retrieve(self, query: str) -> list[int | None]:
        out: list[int | None] = []
        for r in self.retriever.retrieve(query):
            start = getattr(r.node, "start_char_idx", None) or 0  # text nodes have it; BaseNode does not declare it
            n = self.measure_at(start)
            if n not in out:
                out.append(n)
        return out


def _measure_offsets(raw: str) -> tuple[list[int], list[int | None]]:
    starts: list[int] = [0]
    numbers: list[int | None] = [None]
    expected = 1
    for m in re.finditer(r"(?m)^(\d{1,3})\s*[.．]", raw):
        if int(m.group(1)) == expected:
            starts.append(m.start())
            numbers.append(expected)
            expected += 1
    tail = raw.find("四、工作要求")
    if tail > 0:
        starts.append(tail)
        numbers.append(None)
    return starts, numbers
