"""``python -m eval answers`` plus, per question, the reply mode and what ``assistant.llm`` logged.

    .venv/bin/python tests/llm/eval_modes.py answers --mode llm --limit 60 --out .cache/llm-eval

Runs exactly eval's own ``answers`` command (same questions, metrics and
answers.json; eval itself now counts modes and the fallback rate) and writes
``modes.json`` next to answers.json: for each question the last turn's
``Reply.mode``, its wall time, and the ``assistant.llm`` log lines of that
question (why an answer fell back, which sentences were dropped, how a
follow-up was condensed). It prints the mode counts at the end.
"""

from __future__ import annotations

import collections
import json
import logging
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import eval.commands as commands  # noqa: E402
from eval.__main__ import main  # noqa: E402

modes: list[dict[str, Any]] = []
_ask_question = commands.ask_question


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.levelname}: {record.getMessage()}"[:600])


_log = _Collect()


def ask_question(bot: Any, q: Any) -> Any:
    last: dict[str, Any] = {}
    ask = bot.ask

    def recording_ask(*args: Any, **kwargs: Any) -> Any:
        reply = ask(*args, **kwargs)
        last["reply"] = reply
        return reply

    bot.ask = recording_ask
    _log.lines.clear()
    t0 = time.perf_counter()
    try:
        record = _ask_question(bot, q)
    finally:
        del bot.ask  # back to the class method
    reply = last.get("reply")
    modes.append(
        {
            "id": q.id,
            "kind": q.kind,
            "mode": reply.mode if reply else None,
            "seconds": round(time.perf_counter() - t0, 2),
            "llm_log": list(_log.lines),
        }
    )
    return record


def _out_dir(argv: list[str]) -> Path | None:
    return Path(argv[argv.index("--out") + 1]) if "--out" in argv else None


if __name__ == "__main__":
    argv = sys.argv[1:]
    commands.ask_question = ask_question
    llm_logger = logging.getLogger("assistant.llm")
    llm_logger.addHandler(_log)
    llm_logger.setLevel(logging.INFO)
    rc = main(argv)
    counts = collections.Counter(m["mode"] for m in modes)
    answered = counts["llm"] + counts["llm-fallback"]
    summary = {"counts": dict(counts), "fallback_rate_of_answered": round(counts["llm-fallback"] / answered, 4) if answered else None}
    print(f"modes: {summary}")
    out = _out_dir(argv)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        (out / "modes.json").write_text(
            json.dumps({"summary": summary, "questions": modes}, ensure_ascii=False, indent=1), encoding="utf-8"
        )
    sys.exit(rc)
