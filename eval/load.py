"""``python -m eval load``: many concurrent clients against ``POST /api/ask`` of a running app.

Only loopback URLs are accepted: this is a tool for testing your own instance, and pointing
50 threads at someone else's server is not something it should make easy.

Besides throughput and latency it checks for cross-talk, the failure that matters most when
one ``Assistant`` serves many threads: after the load phase every question is asked again alone,
one at a time, and each reply under load must have cited exactly what it cites alone (asked
afterwards, so the load phase meets an empty query cache). Some clients hold
two-turn conversations (the follow-up sent with the first reply as history), including the
pinned case "新认定的省级重点实验室区里给多少钱？" → "那国家级的呢？", which must cite 第24条.

It also checks the conversation log: each reply's ``Server-Timing: log;dur=`` is the time the
request spent logging (masking, building the row, queueing it), reported as p50/p95 and failed
above ``MAX_LOG_P95_MS``; with ``--token`` (a staff token) every reply's ``id`` is looked up in
the database afterwards and any that is missing is a lost record. Start the app with
``POLICY_ASK_RATE_PER_MINUTE=0``: all clients share one address, and the per-client limit would
refuse most of them.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import ipaddress
import os
import random
import re
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from .data import load_questions
from .runner import percentile

CONVERSATION_EVERY = 5  # every 5th client holds two-turn conversations
PINNED = (("新认定的省级重点实验室区里给多少钱？", "那国家级的呢？"), 24)
DEFAULT_TOTAL_TIMEOUT = 600.0  # seconds for the whole run; requests still pending then count as errors
MAX_LOG_P95_MS = 5.0  # issue 13: logging may add at most 5 ms (p95) to a request
_LOG_DUR = re.compile(r"(?:^|,)\s*log;dur=([0-9.]+)")


class LoadTestError(Exception):
    """The load test cannot start (bad URL, app not reachable); the message says what to do."""


def check_loopback(url: str) -> httpx.URL:
    """The parsed URL if its host is loopback (127.0.0.0/8, ::1, localhost), else LoadTestError."""
    try:
        u = httpx.URL(url)
    except Exception as ex:  # httpx raises several kinds for malformed URLs
        raise LoadTestError(f"{url!r} is not a valid URL ({ex}); use e.g. http://127.0.0.1:7860") from None
    if u.scheme not in ("http", "https") or not u.host:
        raise LoadTestError(f"{url!r} is not an http(s) URL; use e.g. http://127.0.0.1:7860")
    host = u.host.lower()
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise LoadTestError(
            f"refusing to load-test {host!r}: only loopback hosts (127.0.0.0/8, ::1, localhost) are allowed; "
            "run the app locally (`python app.py`) and point --url at http://127.0.0.1:PORT"
        )
    return u


@dataclass
class _Tally:
    """Results shared by all client threads (appends are guarded by ``lock``)."""

    latencies: list[float] = field(default_factory=list)
    log_ms: list[float] = field(default_factory=list)  # server-side logging time per request
    ids: list[str] = field(default_factory=list)  # reply ids, to look up in the log afterwards
    errors: list[str] = field(default_factory=list)
    crosstalk: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def error(self, what: str) -> None:
        with self.lock:
            self.errors.append(what)


def _ask(
    client: httpx.Client, question: str, history: list[dict[str, str]], deadline: float, tally: _Tally | None
) -> dict[str, Any] | None:
    """One POST /api/ask; returns the reply JSON, or None after recording why it failed."""
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        if tally:
            tally.error("total timeout reached before the request was sent")
        return None
    t0 = time.perf_counter()
    try:
        r = client.post("/api/ask", json={"question": question, "history": history}, timeout=min(60.0, remaining))
        ms = (time.perf_counter() - t0) * 1000
        if r.status_code != 200:
            raise ValueError(f"HTTP {r.status_code}: {r.text[:200]}")
        body = r.json()
        if not isinstance(body, dict) or not isinstance(body.get("text"), str):
            raise ValueError(f"reply is not JSON with a 'text' string: {r.text[:200]}")
    except Exception as ex:
        if tally:
            tally.error(f"{question[:30]}: {type(ex).__name__}: {ex}")
        return None
    if tally:
        logged = _LOG_DUR.search(r.headers.get("server-timing", ""))
        with tally.lock:
            tally.latencies.append(ms)
            if logged:
                tally.log_ms.append(float(logged.group(1)))
            if isinstance(body.get("id"), str):
                tally.ids.append(body["id"])
    return body


def _cited(reply: dict[str, Any]) -> list[Any]:
    return [c.get("item") for c in reply.get("citations", [])]


def _conversation(client: httpx.Client, turns: tuple[str, ...], deadline: float, tally: _Tally | None) -> dict[str, Any] | None:
    """Ask the turns in order, each with the real earlier replies as history; the last reply."""
    history: list[dict[str, str]] = []
    reply = None
    for turn in turns:
        reply = _ask(client, turn, history, deadline, tally)
        if reply is None:
            return None
        history += [{"role": "user", "content": turn}, {"role": "assistant", "content": reply["text"]}]
    return reply


def cmd_load(args: argparse.Namespace) -> int:
    """Run the load test; exit 1 on any error, cross-talk or a wrong pinned follow-up; 2 if it cannot start."""
    try:
        url = check_loopback(args.url)
    except LoadTestError as ex:
        print(f"error: {ex}", file=sys.stderr)
        return 2
    total_timeout = float(getattr(args, "timeout", 0) or DEFAULT_TOTAL_TIMEOUT)
    qs = load_questions(args.qa)
    singles = [q.text for q in qs if len(q.turns) == 1]
    expected: dict[tuple[str, ...], int] = {PINNED[0]: PINNED[1]}
    expected |= {q.turns: q.gold[0] for q in qs if q.kind == "multiturn" and len(q.turns) == 2 and q.gold}
    conversations = list(expected)
    tally = _Tally()
    seen: list[tuple[Any, list[Any]]] = []  # (question or turns, what the reply cited under load)
    limits = httpx.Limits(max_connections=args.clients + 5, max_keepalive_connections=args.clients + 5)
    with httpx.Client(base_url=str(url).rstrip("/"), limits=limits, trust_env=False) as client:
        try:
            client.get("/healthz", timeout=10).raise_for_status()
        except httpx.HTTPError as ex:
            print(f"error: the app at {url} does not answer /healthz ({ex}); start it with `python app.py --port N`", file=sys.stderr)
            return 2

        def run_client(i: int) -> None:
            rng = random.Random(i)
            for _ in range(args.requests):
                key: Any
                if i % CONVERSATION_EVERY == 0:
                    key = PINNED[0] if rng.random() < 0.3 else rng.choice(conversations)
                    reply = _conversation(client, key, deadline, tally)
                else:
                    key = rng.choice(singles)
                    reply = _ask(client, key, [], deadline, tally)
                if reply is not None:
                    with tally.lock:
                        seen.append((key, _cited(reply)))

        deadline = time.monotonic() + total_timeout
        t0 = time.perf_counter()
        with cf.ThreadPoolExecutor(max_workers=args.clients) as pool:
            list(pool.map(run_client, range(args.clients)))
        wall = time.perf_counter() - t0
        lat = list(tally.latencies)
        # Afterwards (so the load phase met an empty query cache), each question alone, one at a time.
        deadline = time.monotonic() + total_timeout
        alone: dict[Any, list[Any]] = {}
        later = _Tally()
        for key in dict.fromkeys([k for k, _ in seen] + [PINNED[0]]):
            reply = _conversation(client, key, deadline, later) if isinstance(key, tuple) else _ask(client, key, [], deadline, later)
            if reply is not None:
                alone[key] = _cited(reply)
        token = getattr(args, "token", None) or os.environ.get("POLICY_STAFF_TOKEN")
        checked = tally.ids + later.ids
        lost = _lost(client, token, checked) if token else None
    crosstalk = [f"{k!r}: cited {c} under load, {alone[k]} alone" for k, c in seen if k in alone and c != alone[k]]
    wrong = [k for k, c in seen if isinstance(k, tuple) and expected[k] not in c[:1]]
    pinned_ok = PINNED[1] in alone.get(PINNED[0], [])[:1] and PINNED[0] not in wrong
    print(f"{args.clients} clients × {args.requests} requests (every {CONVERSATION_EVERY}th client in 2-turn conversations) against {url}")
    print(f"  answers        {len(lat)} in {wall:.1f} s = {len(lat) / wall:.1f} answers/s (all turns counted)")
    print(f"  latency        p50 {percentile(lat, 50):.0f} ms  p95 {percentile(lat, 95):.0f} ms  p99 {percentile(lat, 99):.0f} ms")
    print(f"  errors         {len(tally.errors)}")
    print(f"  cross-talk     {len(crosstalk)} of {len(seen)} replies cited something else than when asked alone")
    print(f"  follow-ups     {len(wrong)} did not cite the expected measure first ({len(set(wrong))} distinct conversations)")
    print(f"  pinned         {' → '.join(PINNED[0])} cites 第{PINNED[1]}条: {'yes' if pinned_ok else 'NO'}")
    log_ok = _report_logging(tally, lost, len(checked))
    for e in (tally.errors + crosstalk)[:10]:
        print(f"    {e}")
    if any("HTTP 429" in e for e in tally.errors):
        print("    (HTTP 429: start the app with POLICY_ASK_RATE_PER_MINUTE=0 for a load test; all clients share one address)")
    return 1 if tally.errors or crosstalk or not pinned_ok or not log_ok else 0


def _lost(client: httpx.Client, token: str, ids: list[str]) -> list[str]:
    """Reply ids the conversation log does not have (asked after the app's writer has caught up)."""
    missing: list[str] = []
    headers = {"Authorization": f"Bearer {token}"}
    for i in range(0, len(ids), 500):
        r = client.post("/api/staff/logs/missing", json={"ids": ids[i : i + 500]}, headers=headers, timeout=120)
        r.raise_for_status()
        missing += r.json()["missing"]
    return missing


def _report_logging(tally: _Tally, lost: list[str] | None, checked: int) -> bool:
    """Print the logging overhead and lost records; False if either fails its bound."""
    if not tally.log_ms:
        print("  logging        not reported (the app does not log questions: no Server-Timing log;dur)")
        return True
    p95 = percentile(tally.log_ms, 95)
    print(f"  logging        p50 {percentile(tally.log_ms, 50):.3f} ms  p95 {p95:.3f} ms per request (bound {MAX_LOG_P95_MS:.0f} ms)")
    if lost is None:
        print("  lost records   not checked: pass --token (python -m assistant user token NAME) or set POLICY_STAFF_TOKEN")
        return p95 <= MAX_LOG_P95_MS
    print(f"  lost records   {len(lost)} of {checked} replies (load phase and replay) missing from the log")
    return p95 <= MAX_LOG_P95_MS and not lost
