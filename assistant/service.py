"""The public entry point: ``Assistant().ask(question, history)`` -> :class:`Reply`."""

from __future__ import annotations

import dataclasses
import datetime as _dt
import logging
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from . import dialog, guard
from . import parts as message_parts
from .answer import Answerer, detect_intent, grounding_violations, not_found
from .decide import DEFAULT_MODEL, MAX_AGGREGATE, Decision, DecisionModel
from .embed import Embedder
from .features import FeatureExtractor, Terms, wants_document_facts
from .index import LoadedIndex, open_index
from .lexicon import Lexicon
from .memory import QuestionMemory
from .parse import load_corpus
from .retrieve import HybridRetriever, Mode
from .settings import Settings
from .textutil import cn_count
from .types import Corpus, Hit, Measure, Reply

if TYPE_CHECKING:
    from .llm import AnswerStream

log = logging.getLogger("assistant")

_REF = re.compile(r"第\s*(\d{1,4})\s*条")
CANDIDATES = 10  # retrieved items the answer decision scores
# … for a "what can I get" question, which cites up to eight: 36 of 406 gold items of train + dev
# aggregate questions ranked below ten in retrieval, 12 of them within fifteen.
AGGREGATE_CANDIDATES = 15


@dataclass(frozen=True)
class Engine:
    """Everything that depends on the corpus, built together and swapped as one by ``reload``."""

    corpus: Corpus
    lexicon: Lexicon
    index: LoadedIndex
    retriever: HybridRetriever
    features: FeatureExtractor
    answerer: Answerer

    @property
    def known_text(self) -> str:
        """All searchable text of the corpus (a word absent from it is unknown to the documents)."""
        return self.features.known_text


@dataclass(frozen=True)
class Reading:
    """One interpretation of a question: its text, the items retrieved for it and their features."""

    question: str
    hits: list[Hit]
    terms: Terms
    X: np.ndarray
    qvec: np.ndarray | None = None  # the question's embedding (sentence similarities for quoting)


@dataclass(frozen=True)
class Analysis:
    """A question made ready for the answer decision.

    ``readings[0]`` is the question as resolved with the history; ``readings[1]``, when there is
    one, is the other way to read it (``Assistant._other_reading``): a follow-up that may change the
    topic ("那高新技术企业呢？") read alone, or a turn that reads as complete merged with the last topic.
    """

    typed: str  # the cleaned question as typed this turn
    readings: list[Reading]
    early: Reply | None = None  # a reply decided before retrieval: a refusal, or a curated answer
    parts: list[Reading] = field(default_factory=list)  # each question of a message that asks several
    aggregate: bool = False  # a "what can I get" question (more candidates, more citations)


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
        decision: DecisionModel | None = None,
        memory: QuestionMemory | None = None,
        curated: Any = None,
        rebuild: bool = True,
        quiet: bool = True,
    ) -> None:
        self.settings = settings or Settings.from_env()
        self.embedder = embedder or Embedder.load(self.settings.embed_model)
        self._chroma_client = chroma_client
        self._quiet = quiet
        self._reload_lock = threading.Lock()
        decision_path = self.settings.decision_model or DEFAULT_MODEL
        self.model = decision or DecisionModel.load(decision_path)
        if memory is None:  # the memory fitted with the decision, beside it
            memory_file = self.model.info.get("memory_file")
            memory = QuestionMemory.load(decision_path.parent / memory_file) if memory_file else QuestionMemory.empty()
        self.memory = memory.for_model(self.embedder.model_id)
        self._engine = self._load(rebuild=rebuild)
        self.clock = clock or _dt.date.today
        self._lock = threading.Lock()
        self.llm = llm
        self.curated = curated  # a curated.CuratedMatcher: reviewed answers checked before retrieval
        if self.llm is None and self.settings.llm_enabled:
            from .llm import LLMAnswerer

            self.llm = LLMAnswerer.from_settings(self.settings, self.corpus)

    def _load(self, *, rebuild: bool = True) -> Engine:
        corpus = load_corpus(self.settings.corpus_dir, cache_dir=self.settings.index_dir / "extract-cache")
        lexicon = Lexicon.for_corpus(corpus, self.settings.corpus_dir / "synonyms.toml")
        index = open_index(self.settings, corpus, lexicon, self.embedder, rebuild=rebuild, quiet=self._quiet, client=self._chroma_client)
        features = FeatureExtractor(corpus, lexicon, index, self.memory)
        retriever = HybridRetriever(corpus, index, self.embedder, lexicon)
        return Engine(corpus, lexicon, index, retriever, features, Answerer(corpus, lexicon, features))

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
        an = self.analyse(question, history, mode=mode, doc_id=doc_id, engine=eng)
        if an.early is not None:
            return an.early
        reading, decision = self.decide(an)
        reply = eng.answerer.answer(reading.question, an.typed, reading.hits, decision, reading.terms, self.clock(), qvec=reading.qvec)
        reply = self._enforce_grounding(reply, eng.corpus)
        if self.llm is not None and reply.answered:
            reply = self.llm.rewrite(an.typed, reading.question, reply, reading.hits, self.clock())
        return reply

    def ask_stream(self, question: Any, history: Sequence[dict[str, str]] | None = None) -> AnswerStream:
        """Like :meth:`ask`, but an LLM answer arrives sentence by sentence as each passes verification.

        Iterate the stream for the verified pieces, then read ``stream.reply`` (the final reply,
        extractive on a fallback) and ``stream.outcome``. Without an LLM, and for refusals and
        curated answers, the stream yields nothing and ``reply`` is what ``ask`` returns.
        """
        from .llm import AnswerStream

        eng = self._engine
        an = self.analyse(question, history, engine=eng)
        if an.early is not None:
            return AnswerStream.done(an.early)
        reading, decision = self.decide(an)
        reply = eng.answerer.answer(reading.question, an.typed, reading.hits, decision, reading.terms, self.clock())
        reply = self._enforce_grounding(reply, eng.corpus)
        if self.llm is None or not reply.answered or not hasattr(self.llm, "stream"):
            return AnswerStream.done(reply)
        stream: AnswerStream = self.llm.stream(an.typed, reading.question, reply, reading.hits, self.clock())
        return stream

    def analyse(
        self,
        question: Any,
        history: Sequence[dict[str, str]] | None = None,
        *,
        mode: Mode | str = Mode.HYBRID,
        doc_id: str | None = None,
        engine: Engine | None = None,
    ) -> Analysis:
        """Clean, resolve and retrieve: everything the answer decision needs (``eval fit`` uses it too)."""
        eng = engine or self._engine
        q = guard.clean_question(question, max_chars=self.settings.max_question_chars)
        q = guard.strip_tags(q).strip() or q  # markup is never part of the question's meaning
        hist = guard.clean_history(history, max_turns=self.settings.max_history_turns)
        refusal = self._out_of_scope(q, eng)
        if refusal is not None:
            return Analysis(q, [], refusal)
        aspect_only = not self._new_topic_words(eng, q)  # "申请要带什么材料？" continues the last topic
        resolved, how = dialog.resolve_with_kind(q, hist, eng.lexicon.knowledge.siblings, force=aspect_only)
        if self.llm is not None and hasattr(self.llm, "condense") and hist and dialog.is_elliptical(q):
            resolved = self.llm.condense(q, hist) or resolved
        curated = self.curated.match(resolved, eng.corpus) if self.curated is not None else None
        if curated is not None:
            return Analysis(q, [], curated)  # a reviewed answer for this question: no retrieval needed
        aggregate = detect_intent(q + " " + resolved).aggregate
        top_k = AGGREGATE_CANDIDATES if aggregate else None
        readings = [self._reading(eng, resolved, mode=mode, doc_id=doc_id, top_k=top_k)]
        alternative = self._other_reading(q, resolved, how, hist, eng)
        if alternative is not None:
            readings.append(self._reading(eng, alternative, mode=mode, doc_id=doc_id, top_k=top_k))
        # A message of several questions, not merged with the conversation; a later question that only
        # asks an aspect of the first ("去哪申请") is answered with the first one's item.
        asked = message_parts.questions(q) if resolved == q else []
        wanted = [full for i, (alone, full) in enumerate(asked) if i == 0 or self._new_topic_words(eng, alone)]
        parts = [self._reading(eng, full, mode=mode, doc_id=doc_id) for full in wanted] if len(wanted) > 1 else []
        return Analysis(q, readings, parts=parts, aggregate=aggregate)

    def _other_reading(self, q: str, resolved: str, how: str, hist: list[dict[str, str]], eng: Engine) -> str | None:
        """The second way to read a turn of a conversation, weighed by ``decide``: a follow-up
        merged with the last topic may be a new topic ("那开饭店呢？"), read alone; a turn that reads
        as complete may still lean on it ("后来又评上了，还能再拿吗"), read merged."""
        if how == "append" and resolved != q and self._new_topic_words(eng, q):
            return q
        if how == "standalone" and hist:
            merged, _ = dialog.resolve_with_kind(q, hist, eng.lexicon.knowledge.siblings, force=True)
            return merged if merged != q else None
        return None

    def decide(self, an: Analysis) -> tuple[Reading, Decision]:
        """The reading and decision to answer with: the first, unless the turn's other reading is
        answered with a probability higher by the fitted ``switch`` margin."""
        options = [(r, self._model_for(r).decide(r.hits, r.X, aggregate=an.aggregate)) for r in an.readings]
        best = options[0]
        for r, d in options[1:]:
            if d.confidence > best[1].confidence + self.model.thresholds.switch:
                best = (r, d)
        return best[0], self._with_parts(an, best[1])

    def _with_parts(self, an: Analysis, decision: Decision) -> Decision:
        """The decision for a message that asks several things: each of its questions the decision
        answers on its own adds its best item to the citations, quoted for that question (and
        answers the message when the whole was not answered)."""
        decided = [(r, self._model_for(r).decide(r.hits, r.X, aggregate=False)) for r in an.parts]
        answered = [(r, d) for r, d in decided if d.outcome == "answer"]
        if not answered:
            return decision
        cite = list(decision.cite) if decision.outcome == "answer" else []
        for r, d in answered:
            own = dataclasses.replace(d.cite[0], question=r.question, qvec=r.qvec)
            if len(cite) < MAX_AGGREGATE and all(s.hit.item.key != own.hit.item.key for s in cite):
                cite.append(own)
        return Decision("answer", cite, confidence=max([decision.confidence] + [d.confidence for _, d in answered]))

    def _model_for(self, reading: Reading) -> DecisionModel:
        """The decision fitted with the question memory when the memory knows every candidate's
        document, else the one fitted without it (a document added after the fit)."""
        known = self.memory.doc_ids
        return self.model if all(h.item.doc_id in known for h in reading.hits) else self.model.without_memory()

    def _reading(self, eng: Engine, question: str, **kw: Any) -> Reading:
        hits = self._with_facts(eng, question, self._retrieve(eng, question, **kw))
        terms = eng.features.terms(question)
        qvec = eng.retriever.query_vector(guard.strip_tags(question)) if hits else None
        return Reading(question, hits, terms, eng.features.features(question, hits, qvec, terms), qvec)

    @staticmethod
    def _with_facts(eng: Engine, question: str, hits: list[Hit]) -> list[Hit]:
        """Questions about the document itself (文号, 发文, 有效期) always get its facts section as a
        candidate: its text rarely shares their words, and the answer decision weighs it."""
        if not wants_document_facts(question) or any(h.item.key.endswith("#facts") for h in hits):
            return hits
        doc = eng.corpus.document(hits[0].item.doc_id if hits else None)
        facts = next((s for s in doc.sections if s.key_name == "facts"), None)
        return hits if facts is None else [*hits, Hit(facts, 0.0, ())]

    def _new_topic_words(self, eng: Engine, q: str) -> bool:
        """Whether the follow-up names something beyond an aspect ("找哪个部门") of the previous topic."""
        return any(t not in dialog.ASPECT_WORDS for t in eng.lexicon.key_terms(q))

    def retrieve(self, query: str, *, mode: Mode | str = Mode.HYBRID, top_k: int | None = None, **filters: Any) -> list[Hit]:
        """Hybrid (or single-signal) retrieval with HTML tags removed from the query."""
        return self._retrieve(self._engine, query, mode=mode, top_k=top_k, **filters)

    def _retrieve(self, eng: Engine, query: str, *, mode: Mode | str = Mode.HYBRID, top_k: int | None = None, **filters: Any) -> list[Hit]:
        return eng.retriever.retrieve(guard.strip_tags(query), top_k or max(self.settings.top_k, CANDIDATES), mode=mode, **filters)

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
        places = self._foreign_places(eng, q)
        if places:
            where = "、".join(dict.fromkeys(_region(d.issuer) for d in eng.corpus.documents if d.issuer)) or "本地"
            return not_found(q, [], f"已收录的是{where}的政策文件，没有关于“{'、'.join(places)}”的规定")
        most = max(len(d.measures) for d in eng.corpus.documents)
        for m in _REF.finditer(q):
            if not any(x.number == int(m.group(1)) for x in eng.corpus.measures):
                return not_found(q, [], f"文件中没有您说的这一条（共{cn_count(most)}条措施）")
        return None

    @staticmethod
    def _foreign_places(eng: Engine, q: str) -> list[str]:
        """Places of the gazetteer (``[places]`` in the corpus data) that the question names and no
        document mentions, even through a synonym (香港 → 境外): the question is about another region."""
        found = [p for p in eng.lexicon.knowledge.places if p in q]
        found = [p for p in found if not any(p != o and p in o for o in found)]
        known = eng.known_text
        return [p for p in found if p not in known and not any(t in known for t in eng.lexicon.synonyms.get(p, ()))]

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


def _region(issuer: str) -> str:
    """某市某区人民政府 -> 某市某区: the issuer without the name of the office."""
    return re.sub(r"(人民政府|政府|办公室|委员会)+$", "", issuer) or issuer
