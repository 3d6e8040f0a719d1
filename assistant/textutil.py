"""Small text helpers shared by the index and the answerer (a leaf module: imports nothing of ours)."""

from __future__ import annotations

import re

_SENT = re.compile(r"(?<=[。；！？])")


def sentences(text: str) -> list[str]:
    """Split at 。；！？ keeping the punctuation: "甲。乙；丙" -> ["甲。", "乙；", "丙"]."""
    return [s.strip() for s in _SENT.split(text) if s.strip()]
