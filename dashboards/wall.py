"""The facilitator's wall: what the room is finding, shared by every session of one server.

Each finished year a participant runs on Explore is kept as a point (policy, scenario, trust,
profit) under an anonymous participant number, never a name, address or session id; the last
KEEP of each participant count. Sessions only add points; the facilitator (holding the key printed
when the server starts) can clear the wall and push a preset that every page opened afterwards
without settings in its link starts from.
"""

from __future__ import annotations

import hmac
import os
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

KEEP = 5  # runs per participant on the wall
KEY_ENV = "TRUSTSIM_FACILITATOR_KEY"


@dataclass(frozen=True)
class Point:
    participant: int  # 1, 2, ... in the order participants first ran something
    scenario: str
    policy: str
    trust: float
    profit: float
    at: float  # time.time() of the run's end


class Wall:
    """Thread-safe: sessions' task threads add, wall pages read, the facilitator clears and pushes."""

    def __init__(self, keep: int = KEEP) -> None:
        self._lock = threading.Lock()
        self.keep = keep
        self._numbers: dict[str, int] = {}  # session id -> participant number (the ids never leave here)
        self._runs: dict[int, deque[Point]] = {}
        self._pushed: Any = None
        self.version = 0  # bumped on every change: a wall page redraws when it moves

    def add(self, session: str, scenario: str, policy: str, trust: float, profit: float) -> None:
        with self._lock:
            number = self._numbers.setdefault(session, len(self._numbers) + 1)
            self._runs.setdefault(number, deque(maxlen=self.keep)).append(
                Point(number, scenario, policy, float(trust), float(profit), time.time()))
            self.version += 1

    def points(self) -> list[Point]:
        with self._lock:
            return sorted((p for runs in self._runs.values() for p in runs), key=lambda p: p.at)

    def clear(self) -> None:
        with self._lock:
            self._runs.clear()
            self._numbers.clear()
            self.version += 1

    def push(self, settings: Any) -> None:
        """``settings`` (or None to stop): where every page opened from now on without settings
        in its link starts."""
        with self._lock:
            self._pushed = settings
            self.version += 1

    @property
    def pushed(self) -> Any:
        with self._lock:
            return self._pushed


def facilitator_key() -> str:
    """The server's key: from the environment (``trustsim dashboard`` sets and prints it), else a
    fresh one nobody knows, so no one can act as the facilitator."""
    return os.environ.get(KEY_ENV) or secrets.token_urlsafe(16)


def new_key() -> str:
    return secrets.token_urlsafe(12)


def holds_key(given: str | None, key: str) -> bool:
    return bool(given) and hmac.compare_digest(given.encode(), key.encode())
