"""Input bounds at the edge: which prediction times and key values a request may carry.

A prediction time is accepted only inside a window around now (``serving.prediction_time_*``)
and inside what every timestamp type on the path can hold: pandas' nanosecond timestamps
(the log tables) are the narrowest, 1677-09-21 to 2262-04-11. A value outside is answered
422 naming the field instead of failing later, where one row would wedge the log writer.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

# pandas datetime64[ns] holds 1677-09-21 .. 2262-04-11; a day of margin on each side.
HARDEST_PAST = datetime(1677, 9, 22, tzinfo=UTC)
HARDEST_FUTURE = datetime(2262, 4, 10, tzinfo=UTC)
SHOWN_CHARS = 64  # how much of an offending value an error message may echo


class FieldProblem(ValueError):
    """One request field is unacceptable; the message names it."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field


@dataclass(frozen=True)
class TimeWindow:
    """How far before and after now a prediction time may lie."""

    past: timedelta
    future: timedelta

    def bounds(self, now: datetime) -> tuple[datetime, datetime]:
        """The accepted [earliest, latest] prediction time at ``now``."""
        return max(now - self.past, HARDEST_PAST), min(now + self.future, HARDEST_FUTURE)

    def epoch_seconds(self, moment: datetime | None, now: datetime) -> float:
        """The prediction time as epoch seconds (``now`` when omitted), or FieldProblem."""
        if moment is None:
            return now.timestamp()
        earliest, latest = self.bounds(now)
        try:
            # A naive time is UTC. Converting can itself overflow (0001-01-01T00:00+14:00).
            utc = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
            inside = earliest <= utc <= latest
        except (OverflowError, ValueError):
            inside = False
        if not inside:
            raise FieldProblem(
                "prediction_time",
                f"{shorten(moment.isoformat())} is outside the accepted window "
                f"{earliest:%Y-%m-%d} .. {latest:%Y-%m-%d} (serving.prediction_time_past_days "
                "and prediction_time_future_days)",
            )
        return utc.timestamp()


@dataclass(frozen=True)
class Edge:
    """What the HTTP edge accepts: body size, key length, prediction times, the token."""

    max_body_bytes: int = 4_000_000
    max_key_length: int = 256
    window: TimeWindow = TimeWindow(timedelta(days=5 * 365.25), timedelta(days=366))
    token: str | None = field(default=None, repr=False)  # never printed

    @classmethod
    def from_settings(cls, serving) -> Edge:
        """The edge of a ``ServingSettings`` section; the token comes from the environment."""
        window = TimeWindow(
            timedelta(days=serving.prediction_time_past_days),
            timedelta(days=serving.prediction_time_future_days),
        )
        return cls(
            max_body_bytes=serving.max_body_bytes,
            max_key_length=serving.max_key_length,
            window=window,
            token=os.environ.get(serving.api_token_env) or None,
        )


def shorten(text: str, limit: int = SHOWN_CHARS) -> str:
    """``text`` cut to ``limit`` characters, marked when cut (error messages echo input)."""
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} chars)"
