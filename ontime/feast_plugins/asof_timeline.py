"""The per-view "timeline": for each key, the rows an as-of join may pick, and from when.

An ASOF join picks, per entity row, the source row with the greatest *visible-from* time at
or before the prediction time. The timeline makes that pick equal Feast's rule (newest event
time, then newest write time, among the rows Feast would consider):

- Feast's default: a row is usable once its event time has passed, so it is visible from
  its event time. Of several writes of one event only the newest can ever win, so the
  others are dropped first, ordered exactly as Feast orders them (``written DESC``).
- With ``filter_by_created_timestamp``: a row is usable once *both* its event and its write
  time have passed, so it is visible from the later of the two. A row visible later is not
  necessarily newer (a correction of an old event arrives late), so a row is kept only if
  it is the newest (event, write) of everything visible by its own visible-from time. The
  kept rows are then in the same order both ways, and the latest visible one at a
  prediction time is the newest usable one.

The view's TTL is not applied here: the picked row is the newest usable one, so if it is
older than the TTL every other usable row is too, and the caller blanks it.

When a key has only a few rows (a parcel's scans), sorting them into a timeline costs more
than joining each entity row to all of its key's usable rows and keeping the highest
(event, write) stamp per entity row; :func:`candidates_sql` gives those rows.

The SQL runs through ibis on Feast's DuckDB connection. "Newest (event, write) so far" is
one running ``max`` over a 128-bit number (event_us * 2**64 + written_us); as two windows it
costs twice the sort.
"""

from __future__ import annotations

import pandas as pd
from ibis.expr import datatypes as dt

from ontime.feast_plugins.asof_plan import ViewPlan

UTC = dt.Timestamp(timezone="UTC")
# ibis has no 128-bit integer type; the stamp is only compared and aggregated, never returned.
STAMP = dt.Decimal(38, 0)
# DuckDB stores +-infinity as +-(2**63 - 1) microseconds, beyond every finite time, but
# epoch_us() of an infinite time is NULL; these put infinities back in their place.
POS_INFINITY_US = 9223372036854775807
TWO_TO_64 = 18446744073709551616


def visible_column(view: int) -> str:
    """Timeline name of the visible-from time of the ``view``-th view."""
    return f"__asof_visible_from_{view}"


def event_column(view: int) -> str:
    """Timeline name of the event time of the ``view``-th view."""
    return f"__asof_event_time_{view}"


def key_column(view: int, key: int) -> str:
    """Timeline name of a join key: unique per view, so several views join in one query."""
    return f"__asof_key_{view}_{key}"


def stamp_column(view: int) -> str:
    """Timeline name of the (event, write) stamp of the ``view``-th view."""
    return f"__asof_stamp_{view}"


def quote(name: str) -> str:
    """A DuckDB identifier, whatever characters the name holds."""
    return '"' + name.replace('"', '""') + '"'


def timeline_schema(source_schema, plan: ViewPlan, view: int):
    """Column types of :func:`timeline_sql`, typed as Feast's own join types them."""
    times = {plan.timestamp_field, plan.created_field}
    columns = {key_column(view, i): source_schema[src] for i, (src, _) in enumerate(plan.join_keys)}
    columns[visible_column(view)] = UTC
    columns[event_column(view)] = UTC
    for src, out in plan.features:
        # Feast casts its time columns in place, so a time served as a feature is cast too.
        columns[out] = UTC if src in times else source_schema[src]
    return columns


def candidates_schema(source_schema, plan: ViewPlan, view: int):
    """Column types of :func:`candidates_sql`; the stamp is a 128-bit integer in DuckDB."""
    return {**timeline_schema(source_schema, plan, view), stamp_column(view): STAMP}


def timeline_sql(relation: str, plan: ViewPlan, view: int, write_time_cutoff: bool) -> str:
    """SELECT over ``relation``: keys, visible-from, event time and the output features."""
    event = _utc(plan.timestamp_field)
    selected, present = _selection(plan, view)
    outputs = [key_column(view, i) for i in range(len(plan.join_keys))]
    outputs += [visible_column(view), event_column(view), *(quote(o) for _, o in plan.features)]
    keys = ", ".join(key_column(view, i) for i in range(len(plan.join_keys)))

    if write_time_cutoff and plan.created_field:
        rows = _usable_rows(relation, plan, view, selected, present)
        # RANGE frame: rows visible at the same instant are judged together.
        newest_so_far = (
            f"max({stamp_column(view)}) OVER (PARTITION BY {keys} ORDER BY {visible_column(view)} "
            "RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)"
        )
        return (
            f"SELECT {', '.join(outputs)} FROM (SELECT *, {newest_so_far} AS __asof_newest "
            f"FROM ({rows})) WHERE {stamp_column(view)} = __asof_newest"
        )

    rows = (
        f"SELECT {', '.join(selected)}, {event} AS {event_column(view)}, "
        f"{event} AS {visible_column(view)}"
        + (f", {_utc(plan.created_field)} AS __asof_written" if plan.created_field else "")
        + f" FROM {relation} WHERE {' AND '.join(present)}"
    )
    if not plan.created_field:
        # Without a write time, equal event times are a tie Feast breaks arbitrarily too.
        return f"SELECT {', '.join(outputs)} FROM ({rows})"
    newest_write = (
        f"row_number() OVER (PARTITION BY {keys}, {event_column(view)} "
        "ORDER BY __asof_written DESC)"
    )
    return f"SELECT {', '.join(outputs)} FROM ({rows}) QUALIFY {newest_write} = 1"


def candidates_sql(relation: str, plan: ViewPlan, view: int) -> str:
    """Every row usable once both its times have passed (``filter_by_created_timestamp``),
    with its visible-from time and its (event, write) stamp, for a join that keeps the
    highest stamp per entity row itself. Same columns as :func:`timeline_sql`, plus stamp."""
    rows = _usable_rows(relation, plan, view, *_selection(plan, view))
    return f"SELECT {', '.join(candidates_columns(plan, view))} FROM ({rows})"


def candidates_columns(plan: ViewPlan, view: int) -> list[str]:
    """Quoted column names of :func:`candidates_sql`, in :func:`candidates_schema` order."""
    names = [key_column(view, i) for i in range(len(plan.join_keys))]
    names += [visible_column(view), event_column(view), *(quote(o) for _, o in plan.features)]
    return [*names, stamp_column(view)]


def bounded(relation: str, plan: ViewPlan, first, last, write_time_cutoff: bool, dated: bool):
    """``relation`` narrowed to the rows a pick for prediction times in [first, last] can use.

    A row whose event (or, under the cutoff, write) time is after ``last`` is usable by no
    entity row. A row whose event is older than ``first`` minus the TTL is expired for every
    entity row: dropping it changes no value, since whatever would then be picked instead is
    older still, so expired too. ``dated`` keeps those rows, for callers that want the picked
    row's event time before the TTL. Parquet min/max statistics skip whole row groups.
    """
    if pd.isna(first) or pd.isna(last):
        return relation
    until = _literal(pd.Timestamp(last).ceil("us"))
    conditions = [f"{_utc(plan.timestamp_field)} <= {until}"]
    if write_time_cutoff and plan.created_field:
        conditions.append(f"{_utc(plan.created_field)} <= {until}")
    if plan.ttl is not None and not dated:
        try:
            oldest = pd.Timestamp(first).floor("us") - plan.ttl
        except (OverflowError, pd.errors.OutOfBoundsDatetime):
            oldest = None  # a TTL longer than the calendar: nothing expires
        if oldest is not None:
            conditions.append(f"{_utc(plan.timestamp_field)} >= {_literal(oldest)}")
    return f"(SELECT * FROM {relation} WHERE {' AND '.join(conditions)})"


def _literal(moment: pd.Timestamp) -> str:
    """A TIMESTAMPTZ literal, to the microsecond, in UTC."""
    return f"TIMESTAMPTZ '{moment.tz_convert('UTC'):%Y-%m-%d %H:%M:%S.%f}+00'"


def _selection(plan: ViewPlan, view: int) -> tuple[list[str], list[str]]:
    """Keys and features as timeline columns, and the conditions every usable row meets."""
    times = {plan.timestamp_field, plan.created_field}
    selected = [
        f"{quote(src)} AS {key_column(view, i)}" for i, (src, _) in enumerate(plan.join_keys)
    ]
    selected += [
        f"{_utc(src) if src in times else quote(src)} AS {quote(out)}" for src, out in plan.features
    ]
    # A NULL key or time satisfies none of Feast's join predicates.
    present = [f"{quote(src)} IS NOT NULL" for src, _ in plan.join_keys]
    present.append(f"{_utc(plan.timestamp_field)} IS NOT NULL")
    return selected, present


def _usable_rows(
    relation: str, plan: ViewPlan, view: int, selected: list[str], present: list[str]
) -> str:
    """Rows with a write time, visible from max(event, written), stamped (event, written)."""
    event, written = _utc(plan.timestamp_field), _utc(plan.created_field)
    # Feast's written <= t is never true for a NULL write time.
    conditions = " AND ".join([*present, f"{written} IS NOT NULL"])
    # (event, written) as one number that sorts the same way: event * 2**64 + written.
    stamp = f"{_micros(event)} * {TWO_TO_64}::HUGEINT + {_micros(written)}"
    return (
        f"SELECT {', '.join(selected)}, {event} AS {event_column(view)}, "
        f"greatest({event}, {written}) AS {visible_column(view)}, {stamp} AS {stamp_column(view)} "
        f"FROM {relation} WHERE {conditions}"
    )


def _utc(column: str) -> str:
    """The column as Feast compares it: cast to a UTC timestamp (a no-op when it is one)."""
    return f"CAST({quote(column)} AS TIMESTAMPTZ)"


def _micros(expression: str) -> str:
    """Microseconds since the epoch as HUGEINT, infinities included, order preserved."""
    return (
        f"coalesce(epoch_us({expression}), CASE WHEN {expression} > TIMESTAMPTZ '1970-01-01' "
        f"THEN {POS_INFINITY_US} ELSE -{POS_INFINITY_US} END)::HUGEINT"
    )
