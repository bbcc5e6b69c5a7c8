"""Identifiers: random but reproducible, and unique by construction where a clash would
change the truth (two sessions sharing a sessionId, two people sharing a phone number)."""

from __future__ import annotations

import random

_MASK64 = (1 << 64) - 1
# Coprime with 10, so counter -> (counter * _PHONE_MULTIPLIER + salt) mod 10**k is a bijection.
_PHONE_MULTIPLIER = 2_654_435_761


def _mix64(value: int) -> int:
    """The splitmix64 finaliser: a bijection on 64-bit integers that looks random."""
    value = (value ^ (value >> 30)) * 0xBF58476D1CE4E5B9 & _MASK64
    value = (value ^ (value >> 27)) * 0x94D049BB133111EB & _MASK64
    return value ^ (value >> 31)


class IdFactory:
    """Makes every identifier of one generation run from the run's seed."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._salt = rng.getrandbits(64)
        self._counter = 0
        self._phone_counters: dict[str, int] = {}
        self._phone_salts: dict[str, int] = {}

    def event_id(self) -> str:
        """A UUID v4 string from the run's random stream."""
        value = self._rng.getrandbits(128)
        value = (value & ~(0xF000 << 64) | (0x4000 << 64)) & ~(0xC000 << 48) | (0x8000 << 48)
        text = f"{value:032x}"
        return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"

    def unique(self, prefix: str) -> str:
        """``prefix`` + 16 hex digits, never repeated within a run."""
        self._counter += 1
        return f"{prefix}{_mix64((self._counter + self._salt) & _MASK64):016x}"

    def phone(self, prefix: str, digits: int) -> str:
        """A unique E.164 number in the space ``prefix`` + ``digits`` digits."""
        count = self._phone_counters.get(prefix, 0)
        self._phone_counters[prefix] = count + 1
        salt = self._phone_salts.get(prefix)
        if salt is None:
            salt = self._rng.randrange(10**digits)
            self._phone_salts[prefix] = salt
        if count >= 10**digits:
            raise RuntimeError(f"phone number space {prefix} is exhausted")
        number = (count * _PHONE_MULTIPLIER + salt) % 10**digits
        return f"{prefix}{number:0{digits}d}"
