"""The public entry point: ``Assistant().ask(question, history)`` -> :class:`Reply`."""

from __future__ import annotations

import dataclasses
import datetime as _dt
import logging
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from . import dialog, guard
from .answer import Answerer, grounding_violations, not_found
from .embed import Embedder
from .index import LoadedIndex, open_index
from .lexicon import Lexicon
from .parse import load_corpus
from .retrieve import HybridRetriever, Mode
from .settings import Settings
from .types import Corpus, Hit, Measure, Reply

log = logging.getLogger("assistant")

_REF = re.compile(r"第\s*(\d{1,4})\s*条")


@dataclass(frozen=True)
class Engine:
    """Everything that depends on the corpus, built together and swapped as one by ``reload``."""

    corpus: Corpus
    lexicon: Lexicon
    index: LoadedIndex
    retriever: HybridRetriever
    answerer: Answerer
    known_text: str


class Assistant:
    """Loads the corpus and index once; ``ask`` is safe to call from many threads.

    The heavy parts can be injected (an ``Embedder``, a Chroma client, an LLM
    answerer, a clock), so tests and deployments choose them explicitly.
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        embedder: Embedder | None = None,
        chroma_client: Any = None,
        clock: Callable[[], _dt.date] | None = None,
        llm: Any = None,
        rebuild: bool = True,
        quiet: bool = True,
    ) -> None:
        self.settings = settings or Settings.from_env()
        self.embedder = embedder or Embedder.load(self.settings.embed_model)
        self._chroma_client = chroma_client
        self._quiet = quiet
        self._reload_lock = threading.Lock()
        self._engine = self._load(rebuild=rebuild)
        self.clock = clock or _dt.date.today
        self._lock = threading.Lock()
        self.llm = llm
        if self.llm is None and self.settings.llm_enabled:
            from .llm import LLMAnswerer

            self.llm = LLMAnswerer.from_settings(self.settings, self.corpus)

    def _load(self, *, rebuild: bool = True) -> Engine:
        corpus = load_corpus(self.settings.corpus_dir, cache_dir=self.settings.index_dir / "extract-cache")
        lexicon = Lexicon.for_corpus(corpus, self.settings.corpus_dir / "synonyms.toml")
        index = open_index(self.settings, corpus, lexicon, self.embedder, rebuild=rebuild, quiet=self._quiet, client=self._chroma_client)
        known = "".join(m.text for m in corpus.measures) + "".join(s.text for s in corpus.sections)
        return Engine(corpus, lexicon, index, HybridRetriever(corpus, index, self.embedder, lexicon), Answerer(corpus, lexicon), known)

    def reload(self) -> None:
        """Re-read the corpus folder and its data files, rebuilding the index if they changed.

        Questions keep being answered from the old state until the new one is complete; a
        corpus that fails to parse raises ``CorpusError`` and leaves the old state in use.
        """
        with self._reload_lock:
            engine = self._load()
            self._engine = engine
            if self.llm is not None and hasattr(self.llm, "corpus"):
                self.llm.corpus = engine.corpus  # its verifier checks numbers against the cited items

    @property
    def engine(self) -> Engine:
        return self._engine

    @property
    def corpus(self) -> Corpus:
        return self._engine.corpus

    @property
    def lexicon(self) -> Lexicon:
        return self._engine.lexicon

    @property
    def index(self) -> LoadedIndex:
        return self._engine.index

    @property
    def retriever(self) -> HybridRetriever:
        return self._engine.retriever

    @property
    def answerer(self) -> Answerer:
        return self._engine.answerer

    # --- questions -------------------------------------------------------------------

    def ask(
        self, question: Any, history: Sequence[dict[str, str]] | None = None, *, mode: Mode | str = Mode.HYBRID, doc_id: str | None = None
    ) -> Reply:
        """Answer ``question`` in the context of ``history``.

        Raises :class:`InvalidQuestionError` for empty, oversized or malformed
        input; every other outcome, "not found" included, is a ``Reply``.
        """
        eng = self._engine  # one consistent snapshot for the whole question, even during a reload
        q = guard.clean_question(question, max_chars=self.settings.max_question_chars)
        q = guard.strip_tags(q).strip() or q  # markup is never part of the question's meaning
        hist = guard.clean_history(history, max_turns=self.settings.max_history_turns)
        refusal = self._out_of_scope(q, eng)
        if refusal is not None:
            return refusal
        resolved, how = dialog.resolve_with_kind(q, hist)
        if self.llm is not None and hasattr(self.llm, "condense") and hist and dialog.is_elliptical(q):
            resolved = self.llm.condense(q, hist) or resolved
        hits = self._retrieve(eng, resolved, mode=mode, doc_id=doc_id)
        if how == "append" and resolved != q:
            resolved, hits = self._topic_change(eng, q, resolved, hits, mode=mode, doc_id=doc_id)
        reply = eng.answerer.answer(resolved, q, hits, self.clock())
        reply = self._enforce_grounding(reply, eng.corpus)
        if self.llm is not None and reply.answered:
            reply = self.llm.rewrite(q, resolved, reply, hits, self.clock())
        return reply

    def retrieve(self, query: str, *, mode: Mode | str = Mode.HYBRID, top_k: int | None = None, **filters: Any) -> list[Hit]:
        """Hybrid (or single-signal) retrieval with HTML tags removed from the query."""
        return self._retrieve(self._engine, query, mode=mode, top_k=top_k, **filters)

    def _retrieve(self, eng: Engine, query: str, *, mode: Mode | str = Mode.HYBRID, top_k: int | None = None, **filters: Any) -> list[Hit]:
        return eng.retriever.retrieve(guard.strip_tags(query), top_k or max(self.settings.top_k, 6), mode=mode, **filters)

    def search(
        self,
        query: str = "",
        *,
        department: str | None = None,
        category: str | None = None,
        doc_id: str | None = None,
        limit: int = 20,
    ) -> list[Measure]:
        """Operator look-up: keyword or natural-language search with filters; empty query lists all."""
        query = guard.strip_tags(query or "").strip()
        if not query:
            return self.retriever.browse(department=department, category=category, doc_id=doc_id)[:limit]
        hits = self.retriever.retrieve(query, limit, department=department, category=category, doc_id=doc_id)
        return [h.item for h in hits if isinstance(h.item, Measure)]

    def item(self, number: int, doc_id: str | None = None) -> Measure:
        return self.corpus.document(doc_id).measure(number)

    # --- helpers ---------------------------------------------------------------------

    def _out_of_scope(self, q: str, eng: Engine) -> Reply | None:
        if guard.is_injection(q):
            return not_found(
                q, [], "这个请求不是政策咨询问题；本助手只回答已收录政策文件中的内容，不会改变角色、编写无关内容或透露内部指令"
            )
        topics = guard.off_topics(q, eng.known_text)
        if topics:
            return not_found(q, [], f"已收录的政策文件没有涉及“{'、'.join(topics)}”的内容")
        places = guard.foreign_places(q, eng.known_text)
        if places:
            return not_found(q, [], f"已收录的文件是太原市万柏林区的政策，没有关于“{'、'.join(places)}”的规定")
        most = max(len(d.measures) for d in eng.corpus.documents)
        for m in _REF.finditer(q):
            if not any(x.number == int(m.group(1)) for x in eng.corpus.measures):
                return not_found(q, [], f"文件中没有您说的这一条（共{_cn_count(most)}条措施）")
        return None

    def _topic_change(self, eng: Engine, q: str, resolved: str, hits: list[Hit], **kw: Any) -> tuple[str, list[Hit]]:
        """Keep the merged follow-up unless the question alone is clearly about something else.

        "那高新技术企业呢？" after a question about the document's dates is a new topic: the item
        found for the question alone contains its words, the item found for the merge does not.
        """
        terms, _ = eng.answerer.key_terms(q)
        if not [t for t in terms if t not in dialog.ASPECT_WORDS]:
            return resolved, hits  # only asks about an aspect ("找哪个部门") of the previous topic
        alone = self._retrieve(eng, q, **kw)
        if not alone or not hits:
            return resolved, hits
        merged_cov = eng.answerer.evidence(q, hits[:1])[0].coverage
        alone_cov = eng.answerer.evidence(q, alone[:1])[0].coverage
        if alone_cov >= merged_cov + 0.25 and terms:
            return q, alone
        return resolved, hits

    def _enforce_grounding(self, reply: Reply, corpus: Corpus) -> Reply:
        """Drop any line whose numbers are not in a cited item (should never fire for quotes)."""
        bad = grounding_violations(reply, corpus)
        if not bad:
            return reply
        log.error("grounding check removed unsupported numbers %s from an answer", bad)
        kept = [ln for ln in reply.text.split("\n") if not any(b in ln for b in bad)]
        if not any("【" in ln for ln in kept):
            return not_found(reply.question, reply.hits)
        return dataclasses.replace(reply, text="\n".join(kept))


def _cn_count(n: int) -> str:
    """84 -> 八十四 (digits in a refusal would look like unsupported claims)."""
    digits = "零一二三四五六七八九"
    if n < 10:
        return digits[n]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else digits[tens]) + "十" + (digits[ones] if ones else "") if n < 100 else str(n)
