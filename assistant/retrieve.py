"""Hybrid retrieval: dense (e5 via Chroma) + sparse (jieba BM25), fused by rank.

Child hits (sentence groups of long measures) are mapped to their parent
item, so a precise sentence can win without losing the measure it belongs to.
"""

from __future__ import annotations

import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Iterable
from enum import Enum

import bm25s
import numpy as np

from .embed import Embedder
from .index import LoadedIndex
from .lexicon import Lexicon
from .types import Corpus, Hit, Item, Measure

log = logging.getLogger("assistant.retrieve")

RRF_K = 60  # Cormack et al. 2009, "Reciprocal rank fusion outperforms Condorcet…": k=60
_REF = re.compile(r"第\s*(\d{1,3})\s*条")


class Mode(str, Enum):
    """Which signals rank the results."""

    HYBRID = "hybrid"
    DENSE = "dense"
    BM25 = "bm25"


class HybridRetriever:
    """Finds the items (measures and sections) that answer a question."""

    def __init__(
        self,
        corpus: Corpus,
        index: LoadedIndex,
        embedder: Embedder,
        lexicon: Lexicon,
        *,
        weights: dict[str, float] | None = None,
        candidates: int = 40,
    ) -> None:
        self.corpus = corpus
        self.index = index
        self.embedder = embedder
        self.lexicon = lexicon
        # BM25 is the sharper signal on official terms, dense on paraphrase; equal weight measured best (eval/).
        self.weights = weights or {"dense": 1.0, "bm25": 1.0}
        self.candidates = candidates
        self._items: dict[str, Item] = {m.key: m for m in corpus.measures} | {s.key: s for s in corpus.sections}
        self._nodes = index.nodes
        self._parent = {n.id: n.parent for n in self._nodes}
        self._child_text = {n.id: n.text for n in self._nodes if n.kind == "child"}
        self._bm25 = bm25s.BM25()
        self._bm25.index([list(n.tokens) or [""] for n in self._nodes], show_progress=False)
        self._vocab = set(self._bm25.vocab_dict)
        self._qcache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    # --- signals -----------------------------------------------------------------

    def query_vector(self, query: str) -> np.ndarray:
        """e5 query embedding of the question expanded with official terms (LRU-cached)."""
        text = self.lexicon.expand_text(query)
        with self._lock:
            if text in self._qcache:
                self._qcache.move_to_end(text)
                return self._qcache[text]
        vec = self.embedder.queries([text])[0]
        with self._lock:
            self._qcache[text] = vec
            if len(self._qcache) > 2048:
                self._qcache.popitem(last=False)
        return vec

    def dense(self, query: str, n: int | None = None) -> list[tuple[str, float, str]]:
        """(parent key, cosine similarity, matched node id), best first, one row per parent."""
        from llama_index.core.vector_stores.types import VectorStoreQuery

        n = n or self.candidates
        res = self.index.store.query(VectorStoreQuery(query_embedding=self.query_vector(query).tolist(), similarity_top_k=n))
        rows = zip(res.ids or [], res.similarities or [], strict=False)
        return _best_per_parent((self._parent.get(i, i), float(s), i) for i, s in rows)

    def sparse(self, query: str, n: int | None = None) -> list[tuple[str, float, str]]:
        """(parent key, BM25 score, matched node id), best first, one row per parent."""
        n = n or self.candidates
        tokens = [t for t in self.lexicon.query_tokens(query) if t in self._vocab]
        if not tokens:
            return []
        scores = self._bm25.get_scores(tokens)
        order = np.argsort(-scores)[: n * 2]
        return _best_per_parent((self._nodes[i].parent, float(scores[i]), self._nodes[i].id) for i in order if scores[i] > 0)[:n]

    # --- public ------------------------------------------------------------------

    def retrieve(
        self,
        query: str,
        top_k: int = 5,
        *,
        mode: Mode | str = Mode.HYBRID,
        department: str | None = None,
        category: str | None = None,
        doc_id: str | None = None,
    ) -> list[Hit]:
        """Top items for ``query``, each with its fused score and the signals that found it."""
        mode = Mode(mode)
        lists: dict[str, list[tuple[str, float, str]]] = {}
        if mode in (Mode.HYBRID, Mode.DENSE):
            try:
                lists["dense"] = self.dense(query)
            except Exception as ex:  # a vector store gone away must not take answers down with it
                if mode is Mode.DENSE:
                    raise
                log.error("dense retrieval failed (%s); answering from BM25 only", ex)
        if mode in (Mode.HYBRID, Mode.BM25):
            lists["bm25"] = self.sparse(query)
        fused: dict[str, float] = {}
        ranks: dict[str, dict[str, int]] = {}
        raw: dict[str, dict[str, float]] = {}
        matched: dict[str, str] = {}
        for signal, rows in lists.items():
            for rank, (key, score, node_id) in enumerate(rows, start=1):
                fused[key] = fused.get(key, 0.0) + self.weights[signal] / (RRF_K + rank)
                ranks.setdefault(key, {})[signal] = rank
                raw.setdefault(key, {})[signal] = score
                matched.setdefault(key, node_id)
        refs = self.references(query, doc_id)
        for i, ref in enumerate(refs):
            # An explicit "第N条" is the strongest signal there is; several keep the order they were named in.
            fused[ref] = fused.get(ref, 0.0) + 1.0 + 0.01 * (len(refs) - i)
            ranks.setdefault(ref, {})["ref"] = 1
        keys = sorted(fused, key=lambda k: -fused[k])
        hits = []
        for key in keys:
            item = self._items.get(key)
            if item is None or not _passes(item, department, category, doc_id):
                continue
            node = matched.get(key, key)
            hits.append(
                Hit(
                    item=item,
                    score=fused[key],
                    sources=tuple(s for s in ("dense", "bm25", "ref") if s in ranks[key]),
                    ranks=ranks[key] | {f"{s}_score": v for s, v in raw.get(key, {}).items()},
                    matched=self._child_text.get(node, ""),
                )
            )
            if len(hits) >= top_k:
                break
        return hits

    def references(self, query: str, doc_id: str | None = None) -> list[str]:
        """Keys of measures named explicitly ("第25条") that exist: in the document ``doc_id``, else in
        the documents the question names (by 文号 or short title), else in any document."""
        if doc_id:
            docs = [self.corpus.document(doc_id)]
        else:
            named = [d for d in self.corpus.documents if (d.number and d.number in query) or (d.short_title and d.short_title in query)]
            docs = named or list(self.corpus.documents)
        out = []
        for m in _REF.finditer(query):
            n = int(m.group(1))
            out += [f"{d.id}#{n}" for d in docs if any(x.number == n for x in d.measures) and f"{d.id}#{n}" not in out]
        return out

    def browse(self, *, department: str | None = None, category: str | None = None, doc_id: str | None = None) -> list[Measure]:
        """All measures matching the filters, in document order (for the operator console)."""
        return [m for m in self.corpus.measures if _passes(m, department, category, doc_id)]


def _best_per_parent(rows: Iterable[tuple[str, float, str]]) -> list[tuple[str, float, str]]:
    seen: dict[str, tuple[str, float, str]] = {}
    for parent, score, node in rows:
        if parent not in seen or score > seen[parent][1]:
            seen[parent] = (parent, score, node)
    return sorted(seen.values(), key=lambda r: -r[1])


def _passes(item: Item, department: str | None, category: str | None, doc_id: str | None) -> bool:
    if doc_id and item.doc_id != doc_id:
        return False
    if department and not any(department in d or d in department for d in item.departments):
        return False
    if category:
        if not isinstance(item, Measure) or category not in item.category:
            return False
    return True
