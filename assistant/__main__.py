"""Command line: ``python -m assistant {corpus,index,ask,chat,add,documents,remove,user}``.

Errors the user can fix are printed as one line (exit 2); unexpected ones
re-raise under pytest or with ``POLICY_RAISE_ERRORS=1``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from pathlib import Path
from typing import Any

from . import AssistantError, Settings, accounts_cli
from .types import Measure


def _measure_lines(m: Measure) -> list[str]:
    lines = [
        f"{m.label} {m.title}",
        f"  文件: {m.doc_id}",
        f"  类别: {m.path[-1] if m.path else m.category}",
        f"  责任单位: {'、'.join(m.departments)}",
    ]
    if m.lead_departments:
        lines.append(f"  牵头单位: {'、'.join(m.lead_departments)}；配合单位: {'、'.join(m.co_departments) or '无'}")
    if m.amounts:
        lines.append("  金额: " + "；".join(f"{a.text}" + (f"（{a.purpose}）" if a.purpose else "") for a in m.amounts))
    if m.percents:
        lines.append("  比例: " + "、".join(p.text for p in m.percents))
    if m.deadlines:
        lines.append(
            "  期限: " + "；".join(f"{d.text} → {d.date.isoformat()}（{'截至' if d.kind == 'until' else '完成于'}）" for d in m.deadlines)
        )
    lines.append(f"  原文: {m.text}")
    return lines


def _show_args(args: list[str]) -> tuple[str | None, int]:
    """``corpus show N`` (the first document) or ``corpus show DOC_ID N``."""
    if len(args) not in (1, 2) or not args[-1].isdigit():
        raise AssistantError("usage: python -m assistant corpus show [DOC_ID] N  (N is the item number, e.g. 25)")
    return (args[0] if len(args) == 2 else None), int(args[-1])


def cmd_corpus(args: argparse.Namespace, settings: Settings) -> int:
    from .parse import load_corpus

    corpus = load_corpus(settings.corpus_dir, cache_dir=settings.index_dir / "extract-cache")
    if args.action == "show":
        doc_id, number = _show_args(args.args)
        try:
            m = corpus.document(args.doc or doc_id).measure(number)
        except KeyError as ex:
            raise AssistantError(str(ex).strip("'\"")) from None
        print("\n".join(_measure_lines(m)))
        return 0
    for d in corpus.documents:
        print(f"{d.id}: 《{d.title}》 {d.number or '（无文号）'}")
        print(f"  发文机关 {d.issuer}；印发 {d.issued}；施行 {d.effective}；有效期 {d.validity_years} 年，至 {d.expires}")
        print(f"  类别 {len(d.categories)}；措施 {len(d.measures)}；其他章节 {len(d.sections)}")
        print(
            f"  金额 {sum(len(m.amounts) for m in d.measures)}；比例 {sum(len(m.percents) for m in d.measures)}；"
            f"期限 {sum(len(m.deadlines) for m in d.measures)}"
        )
        depts = sorted({x for m in d.measures for x in m.departments})
        print(f"  责任单位 {len(depts)} 个")
        for i, c in enumerate(d.categories, start=1):
            print(f"    {c}: {sum(m.category_no == i for m in d.measures)} 条")
    print(f"corpus sha256 {corpus.sha256[:16]}…")
    return 0


def cmd_add(args: argparse.Namespace, settings: Settings) -> int:
    from .kb import KnowledgeBase, summary

    kb = KnowledgeBase(settings)
    change = kb.add([Path(f) for f in args.files], quiet=args.quiet)
    for doc in change.documents:
        print("\n".join(summary(doc)))
    print(
        f"added {len(change.documents)} document(s); index rebuilt in {change.seconds:.1f}s "
        f"({change.embedded} new texts embedded, {change.cached} from the cache): {change.build}"
    )
    return 0


def cmd_documents(args: argparse.Namespace, settings: Settings) -> int:
    import datetime as _dt

    from .parse import load_corpus
    from .present import validity_status

    corpus = load_corpus(settings.corpus_dir, cache_dir=settings.index_dir / "extract-cache")
    today = _dt.date.today()
    for d in corpus.documents:
        dates = f"印发 {d.issued or '—'}  施行 {d.effective or '—'}  到期 {d.expires or '—'}"
        print(f"{d.id}\t{d.number or d.short_title}\t《{d.title}》\t{len(d.measures)}条\t{dates}\t{validity_status(d, today)}")
        for w in d.warnings:
            print(f"\twarning: {w}")
    return 0


def cmd_remove(args: argparse.Namespace, settings: Settings) -> int:
    from .kb import KnowledgeBase

    change = KnowledgeBase(settings).remove(args.doc_id, quiet=args.quiet)
    print(f"removed {args.doc_id}; index rebuilt in {change.seconds:.1f}s: {change.build}")
    return 0


def cmd_index(args: argparse.Namespace, settings: Settings) -> int:
    from .embed import Embedder
    from .index import build_index, check_index, fingerprint
    from .lexicon import Lexicon
    from .parse import load_corpus

    corpus = load_corpus(settings.corpus_dir, cache_dir=settings.index_dir / "extract-cache")
    lexicon = Lexicon.for_corpus(corpus, settings.corpus_dir / "synonyms.toml")
    embedder = Embedder.load(settings.embed_model)
    if args.if_stale:
        folder, why = check_index(settings, fingerprint(corpus, lexicon, embedder.model_id))
        if folder is not None:
            print(f"index is up to date: {folder}")
            return 0
        print(f"index {why}; building")
    t0 = time.perf_counter()
    folder = build_index(settings, corpus, lexicon, embedder, quiet=args.quiet)
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    print(
        f"built {folder} in {time.perf_counter() - t0:.1f}s: {manifest['nodes']} nodes, "
        f"model {manifest['model_id']}, embeddings {manifest['embeddings']}"
    )
    return 0


def _print_reply(reply: Any, as_json: bool) -> None:
    if as_json:
        print(json.dumps(reply.to_dict(), ensure_ascii=False, indent=1))
        return
    print(reply.text)
    for c in reply.citations:
        print(f"  · {c.label} {c.title}｜{c.category}｜{'、'.join(c.departments)}")


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    from .service import Assistant

    bot = Assistant(settings)
    _print_reply(bot.ask(args.question), args.json)
    return 0


def cmd_chat(args: argparse.Namespace, settings: Settings) -> int:
    from .service import Assistant

    bot = Assistant(settings)
    history: list[dict[str, str]] = []
    print("政策通 — 输入问题，回车提问；输入 /clear 清空对话，/quit 退出。")
    while True:
        try:
            q = input("问> ").strip()
        except (EOFError, KeyboardInterrupt):
            print()
            return 0
        if q in ("/quit", "/exit"):
            return 0
        if q == "/clear":
            history.clear()
            continue
        if not q:
            continue
        try:
            reply = bot.ask(q, history)
        except AssistantError as ex:
            print(f"（{ex}）")
            continue
        _print_reply(reply, False)
        history += [{"role": "user", "content": q}, {"role": "assistant", "content": reply.text}]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m assistant", description="政策通: grounded answers about policy documents")
    sub = p.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("corpus", help="inspect the parsed corpus")
    csub = c.add_subparsers(dest="action", required=True)
    show = csub.add_parser("show", help="print one item: corpus show [DOC_ID] N")
    show.add_argument("args", nargs="+", metavar="[DOC_ID] N")
    show.add_argument("--doc", default=None, help="document id (default: the first)")
    csub.add_parser("stats", help="counts per document")
    i = sub.add_parser("index", help="build the search index")
    i.add_argument("--if-stale", action="store_true", help="only when missing, stale or damaged")
    i.add_argument("--quiet", action="store_true", help="no progress bar")
    a = sub.add_parser("ask", help="answer one question")
    a.add_argument("question")
    a.add_argument("--json", action="store_true")
    sub.add_parser("chat", help="interactive session in the terminal")
    accounts_cli.add_parser(sub)
    ad = sub.add_parser("add", help="add policy documents (.pdf .docx .html .md .txt) and index them")
    ad.add_argument("files", nargs="+")
    ad.add_argument("--quiet", action="store_true", help="no progress bar")
    sub.add_parser("documents", help="list the documents: id, 文号, items, dates, validity")
    rm = sub.add_parser("remove", help="remove a document and re-index")
    rm.add_argument("doc_id")
    rm.add_argument("--quiet", action="store_true", help="no progress bar")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        settings = Settings.from_env()
        commands = {"corpus": cmd_corpus, "index": cmd_index, "ask": cmd_ask, "chat": cmd_chat, "user": accounts_cli.cmd_user}
        commands |= {"add": cmd_add, "documents": cmd_documents, "remove": cmd_remove}
        return commands[args.cmd](args, settings)
    except AssistantError as ex:
        if "PYTEST_CURRENT_TEST" in os.environ or os.environ.get("POLICY_RAISE_ERRORS"):
            raise
        print(f"error: {ex}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
