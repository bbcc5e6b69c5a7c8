"""The knobs of the synthetic traffic generator, validated once at construction."""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass

MAX_DAYS = 366
MAX_SCALE = 200.0
MAX_SHARE = 0.5


@dataclass(frozen=True)
class GeneratorConfig:
    """What to generate. Same config (with an explicit ``start``) gives byte-identical output.

    ``scale`` 1.0 is about 120k stream entries per week; entries grow linearly with it.
    Shares are fractions 0-0.5 of the accepted events.
    """

    days: int = 7
    seed: int = 42
    start: datetime.date | None = None
    scale: float = 1.0
    duplicate_share: float = 0.02
    late_share: float = 0.01
    malformed_share: float = 0.005

    def __post_init__(self) -> None:
        if not isinstance(self.days, int) or isinstance(self.days, bool):
            raise ValueError(f"days={self.days!r} must be an integer from 1 to {MAX_DAYS}")
        if not 1 <= self.days <= MAX_DAYS:
            raise ValueError(f"days={self.days} is out of range: use 1 to {MAX_DAYS}")
        if not isinstance(self.seed, int) or isinstance(self.seed, bool):
            raise ValueError(f"seed={self.seed!r} must be an integer (any integer works)")
        if self.start is not None:
            if isinstance(self.start, datetime.datetime) or not isinstance(
                self.start, datetime.date
            ):
                raise ValueError(
                    f"start={self.start!r} must be a datetime.date (the first UTC day) or None "
                    "for 'today minus days'"
                )
            if self.start.year < 2000:
                raise ValueError(f"start={self.start} is before 2000-01-01: use a recent date")
            latest_end = datetime.datetime.now(datetime.UTC).date() + datetime.timedelta(days=1)
            end = self.start + datetime.timedelta(days=self.days)
            if end > latest_end:
                raise ValueError(
                    f"start={self.start} with days={self.days} ends on {end}, after tomorrow "
                    f"({latest_end}, UTC): the pipeline would reject such events as "
                    "future_timestamp; use an earlier start or fewer days"
                )
        _check_number("scale", self.scale, low=0.0, high=MAX_SCALE, low_inclusive=False)
        for name in ("duplicate_share", "late_share", "malformed_share"):
            _check_number(name, getattr(self, name), low=0.0, high=MAX_SHARE, low_inclusive=True)

    def first_day(self, today: datetime.date | None = None) -> datetime.date:
        """The first UTC day generated: ``start``, or ``today - days`` when start is None."""
        if self.start is not None:
            return self.start
        if today is None:
            today = datetime.datetime.now(datetime.UTC).date()
        return today - datetime.timedelta(days=self.days)


def _check_number(
    name: str, value: object, *, low: float, high: float, low_inclusive: bool
) -> None:
    allowed = f"{'>=' if low_inclusive else '>'} {low:g} and <= {high:g}"
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{name}={value!r} must be a number {allowed}")
    if not math.isfinite(value):
        raise ValueError(f"{name}={value!r} must be a finite number {allowed}")
    too_low = value < low if low_inclusive else value <= low
    if too_low or value > high:
        raise ValueError(f"{name}={value!r} is out of range: use a number {allowed}")
