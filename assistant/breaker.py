"""A circuit breaker for the LLM endpoint: stop calling a server that is down, notice when it is back.

::

    ok ──(``failures`` consecutive failed calls)──> down ──(back-off elapsed)──> probe
    ^                                                 ^                            │
    └──────────────── the probe (or any call) answers │<── it fails: back-off × 2, capped

While the breaker is down, :meth:`CircuitBreaker.allow` says no at once, so a dead
or hung server costs the caller nothing (the extractive answer is used). With a
``probe`` the breaker retries in a background thread after each back-off, so no
user waits for the retry; without one, the first call after the back-off is let
through as the trial. The log says "down" once when the breaker opens and
"back" once when it closes, however many questions are answered in between.

Thread-safe: one lock guards the state; the probe runs outside it.
"""

from __future__ import annotations

import datetime as _dt
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from .errors import ConfigError

log = logging.getLogger("assistant.llm")

OK = "ok"
DOWN = "down"


@dataclass(frozen=True)
class BreakerStatus:
    """What ``/healthz`` and the chat show: ``state`` is "ok" or "down"."""

    state: str
    since: _dt.datetime  # when the current state began (for "down": the first failure of the run)
    last_error: str  # "" while ok
    failures: int  # consecutive failed calls (and probes)
    retry_in_s: float | None  # seconds until the next retry while down
    skipped: int  # calls refused since the breaker opened
    outages: int = 0  # times it opened since it was made
    skipped_total: int = 0  # calls refused since it was made


def describe_error(ex: BaseException | str) -> str:
    """``APIConnectionError: Connection error.`` — one line, at most 200 characters."""
    if isinstance(ex, str):
        return " ".join(ex.split())[:200]
    text = " ".join(str(ex).split())
    return f"{type(ex).__name__}: {text}"[:200] if text else type(ex).__name__


class CircuitBreaker:
    """Counts consecutive failures of calls to one endpoint and stops the calls for a while.

    ``failures`` failed calls in a row open it; it stays open ``backoff`` seconds,
    doubling after each failed retry up to ``max_backoff``. ``probe`` (a cheap
    call that raises on failure) makes the retries happen in a background
    thread. ``redact`` is removed from logged and reported errors (an API key).
    ``clock`` (monotonic seconds) and ``wall`` (for ``since``) can be injected.
    """

    def __init__(
        self,
        *,
        failures: int = 3,
        backoff: float = 5.0,
        max_backoff: float = 300.0,
        probe: Callable[[], object] | None = None,
        name: str = "LLM",
        redact: str | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], _dt.datetime] = lambda: _dt.datetime.now(_dt.timezone.utc),
    ) -> None:
        if failures < 1:
            raise ConfigError(f"the circuit breaker needs at least 1 failure to open, got {failures}")
        if not 0 < backoff <= max_backoff:
            raise ConfigError(f"circuit breaker back-off must satisfy 0 < backoff ({backoff}) <= max_backoff ({max_backoff})")
        self.threshold = failures
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.name = name
        self._probe = probe
        self._redact = redact
        self._clock = clock
        self._wall = wall
        self._lock = threading.Lock()
        self._state = OK
        self._since = wall()
        self._opened_at = 0.0  # clock() when it opened
        self._failures = 0
        self._last_error = ""
        self._first_failure: _dt.datetime | None = None
        self._wait = backoff  # the current back-off
        self._retry_at = 0.0
        self._trial = False  # a call let through as the trial (no probe)
        self._skipped = 0
        self._outages = 0
        self._skipped_total = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # --- the caller's side ------------------------------------------------------------

    def allow(self) -> bool:
        """Whether to call the endpoint now. While down: no, except one trial call after the back-off when there is no probe."""
        with self._lock:
            if self._state == OK:
                return True
            if self._probe is None and not self._trial and self._clock() >= self._retry_at:
                self._trial = True
                return True
            self._skipped += 1
            self._skipped_total += 1
            return False

    def success(self) -> None:
        """The endpoint answered: reset the count; close the breaker if it was open."""
        with self._lock:
            self._failures = 0
            self._first_failure = None
            self._trial = False
            if self._state == OK:
                return
            down_s = self._clock() - self._opened_at
            skipped = self._skipped
            self._state, self._since, self._last_error = OK, self._wall(), ""
            self._wait, self._skipped = self.backoff, 0
        log.info("%s answering again after %.0f s down (%d calls skipped meanwhile)", self.name, down_s, skipped)

    def abandon(self) -> None:
        """A call let through ended without a verdict (its reader went away): allow another trial."""
        with self._lock:
            self._trial = False

    def failure(self, error: BaseException | str) -> None:
        """A call failed (connection, timeout, HTTP error): count it; open the breaker at the threshold."""
        message = self._clean(describe_error(error))
        with self._lock:
            self._failures += 1
            self._last_error = message
            if self._first_failure is None:
                self._first_failure = self._wall()
            if self._state == DOWN:
                if self._trial:  # the trial call failed: wait longer
                    self._trial = False
                    self._back_off()
                return
            if self._failures < self.threshold:
                return
            self._state, self._since = DOWN, self._first_failure
            self._outages += 1
            self._opened_at = self._clock()
            self._wait, self._skipped = self.backoff, 0
            self._retry_at = self._opened_at + self._wait
            failures, wait = self._failures, self._wait
            if self._probe is not None and self._thread is None:
                self._thread = threading.Thread(target=self._probe_loop, name=f"{self.name}-probe", daemon=True)
                self._thread.start()  # the loop takes the lock only after this block releases it
        log.warning(
            "%s down after %d consecutive failures (last: %s); answering extractively without calling it, "
            "retrying in %g s (back-off doubles up to %g s)",
            self.name,
            failures,
            message,
            wait,
            self.max_backoff,
        )

    # --- status -----------------------------------------------------------------------

    @property
    def state(self) -> str:
        return self._state

    def status(self) -> BreakerStatus:
        with self._lock:
            retry = max(0.0, self._retry_at - self._clock()) if self._state == DOWN else None
            return BreakerStatus(
                self._state, self._since, self._last_error, self._failures, retry, self._skipped, self._outages, self._skipped_total
            )

    def close(self) -> None:
        """Stop the background probe (at shutdown; tests)."""
        self._stop.set()
        t = self._thread
        if t is not None and t is not threading.current_thread():
            t.join(timeout=5)

    # --- internals --------------------------------------------------------------------

    def _back_off(self) -> None:
        """Called with the lock held after a failed retry."""
        self._wait = min(self._wait * 2, self.max_backoff)
        self._retry_at = self._clock() + self._wait
        log.debug("%s still down (%s); next retry in %.0f s", self.name, self._last_error, self._wait)

    def _probe_loop(self) -> None:
        probe = self._probe
        if probe is None:
            return
        while not self._stop.is_set():
            with self._lock:
                if self._state == OK:
                    self._thread = None  # under the lock: a new outage starts a new loop
                    return
                wait = self._retry_at - self._clock()
            if wait > 0:
                self._stop.wait(min(wait, 1.0))  # re-check often: a call may close the breaker meanwhile
                continue
            try:
                probe()
            except Exception as ex:  # noqa: BLE001 - any failure means "still down"
                with self._lock:
                    self._failures += 1
                    self._last_error = self._clean(describe_error(ex))
                    self._back_off()
                continue
            self.success()  # the next turn of the loop sees "ok" and ends it

    def _clean(self, message: str) -> str:
        return message.replace(self._redact, "***") if self._redact else message
