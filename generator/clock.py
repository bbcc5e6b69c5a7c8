"""Time: the traffic shape of a Nairobi public service, and fast ISO-8601 formatting.

Times inside the generator are integer milliseconds since the Unix epoch (UTC), so every
comparison the truth makes is exact at the precision written to the stream.
"""

from __future__ import annotations

import datetime
import math
import random

MINUTE = 60_000
HOUR = 60 * MINUTE
DAY = 24 * HOUR

NAIROBI_OFFSET_MINUTES = 180  # Africa/Nairobi is UTC+03:00 all year (no daylight saving)

# Relative activity per local (Nairobi) hour 0..23: quiet at night, a mid-morning peak
# and an afternoon peak, a small evening tail.
WEB_HOUR_WEIGHTS = (
    0.12, 0.07, 0.05, 0.04, 0.05, 0.12, 0.35, 0.75, 1.30, 1.85, 2.05, 1.90,
    1.45, 1.35, 1.65, 1.80, 1.60, 1.25, 0.95, 0.85, 0.75, 0.55, 0.35, 0.20,
)  # fmt: skip
# WhatsApp leans later: people message after work.
WHATSAPP_HOUR_WEIGHTS = (
    0.15, 0.08, 0.05, 0.04, 0.05, 0.10, 0.30, 0.70, 1.20, 1.70, 1.90, 1.80,
    1.50, 1.45, 1.60, 1.70, 1.55, 1.35, 1.25, 1.20, 1.05, 0.80, 0.50, 0.28,
)  # fmt: skip
# Monday .. Sunday: weekdays busy, Saturday quieter, Sunday lowest.
DAY_WEIGHTS = (1.12, 1.08, 1.05, 1.03, 0.95, 0.50, 0.35)
# Monthly returns (TOT, MRI, NIL) are due on the 20th: the days before it are busier.
DEADLINE_DAYS = {17: 1.15, 18: 1.25, 19: 1.4, 20: 1.6}

_WEB_HOUR_SUM = sum(WEB_HOUR_WEIGHTS)
_WHATSAPP_HOUR_SUM = sum(WHATSAPP_HOUR_WEIGHTS)
_DAY_MEAN = sum(DAY_WEIGHTS) / 7


def local_parts(ms: int) -> tuple[int, int, int]:
    """(hour 0-23, weekday 0=Monday, day of month) of an instant, in Nairobi time."""
    local = datetime.datetime.fromtimestamp(ms / 1000, datetime.UTC) + datetime.timedelta(
        minutes=NAIROBI_OFFSET_MINUTES
    )
    return local.hour, local.weekday(), local.day


def hourly_rate(ms: int, per_week: float, channel: str) -> float:
    """Expected arrivals in the hour starting at ``ms`` for a weekly volume ``per_week``."""
    hour, weekday, day = local_parts(ms)
    if channel == "web":
        hour_share = WEB_HOUR_WEIGHTS[hour] / _WEB_HOUR_SUM
    else:
        hour_share = WHATSAPP_HOUR_WEIGHTS[hour] / _WHATSAPP_HOUR_SUM
    day_factor = DAY_WEIGHTS[weekday] / _DAY_MEAN
    return per_week / 7 * hour_share * day_factor * DEADLINE_DAYS.get(day, 1.0)


def poisson(rng: random.Random, lam: float) -> int:
    """A Poisson draw (Knuth for small means, a rounded normal for large ones)."""
    if lam <= 0:
        return 0
    if lam < 30:
        limit = math.exp(-lam)
        count = 0
        product = rng.random()
        while product > limit:
            count += 1
            product *= rng.random()
        return count
    return max(0, round(rng.gauss(lam, math.sqrt(lam))))


def lognormal_ms(rng: random.Random, median_ms: float, sigma: float, low: int, high: int) -> int:
    """A log-normal duration in ms around ``median_ms``, clamped to [low, high]."""
    value = int(median_ms * math.exp(rng.gauss(0.0, sigma)))
    return min(high, max(low, value))


_EPOCH_ORDINAL = datetime.date(1970, 1, 1).toordinal()


class TimestampFormatter:
    """ISO-8601 strings with milliseconds and an explicit offset, e.g.
    ``2026-01-05T09:14:03.120+03:00`` or ``...Z``. Caches the date part per day."""

    def __init__(self) -> None:
        self._dates: dict[int, str] = {}

    def format(self, ms: int, offset_minutes: int | None) -> str:
        """``offset_minutes`` None writes UTC with ``Z``."""
        if offset_minutes is None:
            local = ms
            suffix = "Z"
        else:
            local = ms + offset_minutes * MINUTE
            sign = "+" if offset_minutes >= 0 else "-"
            hours, minutes = divmod(abs(offset_minutes), 60)
            suffix = f"{sign}{hours:02d}:{minutes:02d}"
        seconds, millis = divmod(local, 1000)
        day, rest = divmod(seconds, 86_400)
        date = self._dates.get(day)
        if date is None:
            date = datetime.date.fromordinal(_EPOCH_ORDINAL + day).isoformat()
            self._dates[day] = date
        hour, rest = divmod(rest, 3600)
        minute, second = divmod(rest, 60)
        return f"{date}T{hour:02d}:{minute:02d}:{second:02d}.{millis:03d}{suffix}"


def day_start_ms(day: datetime.date) -> int:
    """Milliseconds since the epoch of 00:00 UTC on ``day``."""
    return (day.toordinal() - _EPOCH_ORDINAL) * DAY


def iso_utc(ms: int) -> str:
    """An instant as an ISO-8601 UTC string with milliseconds (for the truth)."""
    return TimestampFormatter().format(ms, None)
