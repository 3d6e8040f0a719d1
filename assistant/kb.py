"""The knowledge base: the documents in the corpus folder, added and removed with the index kept in step.

Used by the CLI (``python -m assistant add|documents|remove``) and the web 文件管理 tab. Adding a
file parses it first (a file that fails leaves the folder and the index as they were), copies it into
the corpus folder under a safe id, and rebuilds the index: the embedding cache means only the new
document's text is embedded. Removing moves the file aside, rebuilds, and puts it back if the rebuild
fails. One lock per corpus folder serialises changes made from one process.
"""

from __future__ import annotations

import json
import re
import shutil
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import CorpusError
from .ingest import format_of
from .parse import corpus_files, load_corpus, load_corrections, parse_file
from .settings import Settings
from .types import Corpus, Document

_LOCKS: dict[Path, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


def safe_id(name: str) -> str:
    """A document id from a file name: letters, digits, Chinese, - and _ kept; ``#``/``/``/spaces become -.

    >>> safe_id("柏川区 优化营商环境#2021.pdf")
    '柏川区-优化营商环境-2021'
    """
    flat = re.sub(r"[/\\]", "-", name)
    stem = Path(flat).stem if Path(flat).suffix else flat
    cleaned = re.sub(r"[^0-9A-Za-z_\-\u4e00-\u9fff]+", "-", stem).strip("-")
    return cleaned[:80] or "document"


@dataclass(frozen=True)
class Change:
    """What an add or remove did: the documents involved, the new index and what embedding it took."""

    documents: tuple[Document, ...]
    build: Path
    seconds: float
    embedded: int  # texts embedded for this build (new text only; the rest came from the cache)
    cached: int


def summary(doc: Document) -> list[str]:
    """Lines describing a parsed document: items, headings, departments, facts, warnings."""
    depts = sorted({d for m in doc.measures for d in m.departments})
    leads = sorted({d for m in doc.measures for d in m.lead_departments})
    lines = [
        f"{doc.id}: 《{doc.title}》 {doc.number or '（无文号）'}  [{doc.format}]",
        f"  条目 {len(doc.measures)}（{'/'.join(doc.levels)}，引用为 {doc.measures[0].label}…{doc.measures[-1].label}）",
        f"  标题层级 {len(doc.categories)} 个：{'、'.join(doc.categories[:6])}{'…' if len(doc.categories) > 6 else ''}",
        f"  部门 {len(depts)} 个" + (f"，其中牵头单位 {len(leads)} 个" if leads else ""),
        f"  发文机关 {doc.issuer or '未写明'}；印发 {doc.issued or '未写明'}；"
        f"施行 {doc.effective or '未写明'}；到期 {doc.expires or '未写明'}",
    ]
    lines += [f"  warning: {w}" for w in doc.warnings]
    return lines


class KnowledgeBase:
    """The corpus folder of ``settings`` and its index."""

    def __init__(self, settings: Settings, *, embedder: Any = None, client: Any = None) -> None:
        self.settings = settings
        self._embedder = embedder
        self._client = client
        folder = settings.corpus_dir.resolve()
        with _LOCKS_GUARD:
            self._lock = _LOCKS.setdefault(folder, threading.Lock())

    @property
    def folder(self) -> Path:
        return self.settings.corpus_dir

    @property
    def cache_dir(self) -> Path:
        return self.settings.index_dir / "extract-cache"

    def corpus(self) -> Corpus:
        return load_corpus(self.folder, cache_dir=self.cache_dir)

    def embedder(self) -> Any:
        if self._embedder is None:
            from .embed import Embedder

            self._embedder = Embedder.load(self.settings.embed_model)
        return self._embedder

    def preview(self, path: Path, *, name: str | None = None) -> Document:
        """Parse ``path`` as the document it would become, without changing anything."""
        name = name or path.name
        format_of(Path(name))
        doc_id = safe_id(name)
        fixes = [c for c in load_corrections(self.folder / "corrections.toml") if c.doc == doc_id]
        return parse_file(path, corrections=fixes, doc_id=doc_id, name=name)

    def add(self, paths: Sequence[Path], *, names: Sequence[str] | None = None, quiet: bool = True) -> Change:
        """Parse, copy into the corpus folder and index ``paths``; on any failure nothing is left changed."""
        names = list(names) if names else [p.name for p in paths]
        with self._lock:
            docs = [self.preview(p, name=n) for p, n in zip(paths, names, strict=True)]
            self._check_new([d.id for d in docs])
            copied: list[Path] = []
            try:
                for p, n, d in zip(paths, names, docs, strict=True):
                    copied.append(_copy_in(p, self.folder / f"{d.id}{Path(n).suffix.lower()}"))
                change = self._rebuild(quiet=quiet)
            except BaseException:
                for c in copied:
                    c.unlink(missing_ok=True)
                raise
        return Change(tuple(docs), change.build, change.seconds, change.embedded, change.cached)

    def remove(self, doc_id: str, *, quiet: bool = True) -> Change:
        """Take ``doc_id`` out of the corpus folder and the index; it is put back if the index cannot be rebuilt."""
        with self._lock:
            files = [f for f in corpus_files(self.folder) if f.stem == doc_id]
            if not files:
                known = ", ".join(f.stem for f in corpus_files(self.folder))
                raise CorpusError(f"no document {doc_id!r} in the knowledge base; known: {known}", source=str(self.folder))
            if len(corpus_files(self.folder)) == len(files):
                raise CorpusError("cannot remove the only document; add another one first", source=str(self.folder))
            if any(c.doc == doc_id for c in load_corrections(self.folder / "corrections.toml")):
                raise CorpusError(f"corrections.toml has fixes for {doc_id!r}; delete them first", source=str(self.folder))
            aside = self.folder / ".removed"
            aside.mkdir(exist_ok=True)
            moved = [f.replace(aside / f.name) for f in files]
            try:
                change = self._rebuild(quiet=quiet)
            except BaseException:
                for m in moved:
                    m.replace(self.folder / m.name)
                raise
            for m in moved:
                m.unlink(missing_ok=True)
        return change

    def _check_new(self, ids: Sequence[str]) -> None:
        existing = {f.stem for f in corpus_files(self.folder)} if self.folder.is_dir() else set()
        for i, doc_id in enumerate(ids):
            if doc_id in existing or doc_id in ids[:i]:
                raise CorpusError(
                    f"a document with id {doc_id!r} is already in the knowledge base; "
                    f"remove it first (python -m assistant remove {doc_id}) or rename the file",
                    source=str(self.folder),
                )

    def _rebuild(self, *, quiet: bool) -> Change:
        from .index import build_index
        from .lexicon import Lexicon

        started = time.perf_counter()
        corpus = self.corpus()
        lexicon = Lexicon.for_corpus(corpus, self.folder / "synonyms.toml")
        build = build_index(self.settings, corpus, lexicon, self.embedder(), quiet=quiet, client=self._client)
        manifest = json.loads((build / "manifest.json").read_text(encoding="utf-8"))
        emb = manifest.get("embeddings", {})
        return Change((), build, time.perf_counter() - started, int(emb.get("computed", 0)), int(emb.get("cached", 0)))


def _copy_in(src: Path, dst: Path) -> Path:
    """Copy through a hidden temporary name, so the corpus folder never holds half a file."""
    tmp = dst.with_name(f".incoming-{dst.name}")
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, tmp)
    tmp.replace(dst)
    return dst


def validate_upload(name: str, data: bytes, max_bytes: int) -> None:
    """Refuse an upload that is too large, of an unsupported type, or not what its name says it is."""
    fmt = format_of(Path(name))
    if len(data) > max_bytes:
        raise CorpusError(f"the file is {len(data) / 1e6:.1f} MB; the limit is {max_bytes / 1e6:.0f} MB", source=name)
    if not data.strip():
        raise CorpusError("the file is empty", source=name)
    expected = {"pdf": b"%PDF-", "docx": b"PK\x03\x04"}.get(fmt)
    if expected and not data.startswith(expected):
        raise CorpusError(f"the file is named .{fmt} but its content is not a {fmt.upper()} file", source=name)
    if fmt in ("txt", "md", "html"):
        if b"\x00" in data[:65536]:
            raise CorpusError(f"the file is named .{fmt} but holds binary data", source=name)
        try:
            data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise CorpusError("not UTF-8 text; save the file as UTF-8", source=name) from None
