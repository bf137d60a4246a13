"""Business calendar for SLA timers (pure: no Flask, no DB).

A :class:`BusinessCalendar` knows the desk's weekly working hours in a local
time zone (default Mon–Fri 09:00–18:00 Asia/Shanghai) and the Chinese public
holidays *including* adjusted working days (调休, e.g. a Saturday that is
worked to bridge a golden week).

Holiday data sources, per calendar year:

* ``chinese_calendar`` (PyPI ``chinesecalendar``) for the years it ships data
  for. Its range is detected from its data at import time
  (:data:`CHINESE_CALENDAR_YEARS`; 2004–2026 for version 1.11.0).
* ``holidays.China`` for every other year. Its ``PUBLIC`` set contains the days
  off (statutory days, observed days and announced swaps) and its
  ``weekend_workdays`` attribute the 调休 weekend days it knows. ``holidays``
  0.109 has no ``WORKDAY`` category for China, and it knows 调休 only for years
  that have an official State Council notice (up to 2026). For later years it
  computes the statutory days plus "observed" weekdays, with no 调休 weekends.
  Admins fix those years with ``extra_holidays`` / ``extra_workdays``.

All instants go in and out as timezone-aware datetimes. Results are in UTC.
Internally durations are integer microseconds, so results are exact and
``business_time_between(s, add_business_time(s, d)) == d`` holds.
"""

from __future__ import annotations

import calendar as _stdlib_calendar
from bisect import bisect_left
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import chinese_calendar as _cc
import holidays as _holidays_lib

__all__ = ["BusinessCalendar", "CHINESE_CALENDAR_YEARS", "DEFAULT_HOURS", "national_days"]

Interval = tuple[time, time]

#: Mon–Fri 09:00–18:00 (weekday 0 = Monday).
DEFAULT_HOURS: dict[int, list[Interval]] = {wd: [(time(9), time(18))] for wd in range(5)}

#: Years for which ``chinese_calendar`` has data. It refuses dates outside this range.
CHINESE_CALENDAR_YEARS = range(min(d.year for d in _cc.holidays), max(d.year for d in _cc.holidays) + 1)

_MIDNIGHT = time(0)
_ONE_DAY = timedelta(days=1)
_US_PER_DAY = 86_400 * 1_000_000


def _us(td: timedelta) -> int:
    """Convert a timedelta to integer microseconds exactly (no float)."""
    return (td.days * 86_400 + td.seconds) * 1_000_000 + td.microseconds


def _time_us(t: time) -> int:
    return ((t.hour * 60 + t.minute) * 60 + t.second) * 1_000_000 + t.microsecond


def _as_utc(dt: datetime, name: str) -> datetime:
    if not isinstance(dt, datetime):
        raise TypeError(f"{name} must be a datetime, got {type(dt).__name__}")
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError(f"{name} is a naive datetime; pass a timezone-aware one (stored times are UTC)")
    return dt.astimezone(UTC)


@cache
def national_days(year: int) -> tuple[frozenset[date], frozenset[date]]:
    """Return ``(days_off, adjusted_workdays)`` of the Chinese calendar in ``year``.

    ``days_off`` are public-holiday days (they may include weekend days inside a
    holiday period). ``adjusted_workdays`` are weekend days that are worked (调休).
    Ordinary weekends are in neither set.
    """
    if year in CHINESE_CALENDAR_YEARS:
        off = frozenset(d for d in _cc.holidays if d.year == year)
        work = frozenset(d for d in _cc.workdays if d.year == year)
        return off, work
    # Next year's notice may turn a December weekend of `year` into a workday,
    # so populate both years. `weekend_workdays` can also contain dates of
    # other years, so filter by year.
    cn = _holidays_lib.China(years=(year, year + 1))
    off = frozenset(d for d in cn if d.year == year)
    work = frozenset(d for d in cn.weekend_workdays if d.year == year and d.weekday() >= 5 and d not in off)
    return off, work


@dataclass(frozen=True, slots=True)
class _Year:
    first: int  # ordinal of 1 January
    workday: tuple[bool, ...]  # per day of the year
    cum: tuple[int, ...]  # cum[i] = working microseconds in days [0, i); len = days + 1


class BusinessCalendar:
    """Working hours + Chinese holidays/调休 + admin overrides, in one time zone.

    Args:
        hours: weekday (0=Mon … 6=Sun) → list of ``(start, end)`` local wall-clock
            intervals, e.g. ``[(time(9), time(12)), (time(13), time(18))]`` for a
            lunch break. ``end == time(0)`` means midnight at the end of the day.
            Intervals must not overlap or cross midnight. Default: :data:`DEFAULT_HOURS`.
        tz: IANA time zone in which ``hours`` and dates are interpreted.
        extra_holidays: dates that are not worked. These override the holiday packages.
        extra_workdays: dates that are worked. These override the packages.

    A day is a working day if it is in ``extra_workdays``. Otherwise it is not a
    working day if it is in ``extra_holidays`` or is a public holiday. Otherwise
    it is a working day if it is a 调休 day or its weekday has hours. A working day
    whose weekday has no hours (a 调休 Saturday, an extra workday on a Sunday)
    uses the hours of the first weekday from Monday on that has hours.

    Instances are immutable after construction apart from internal per-year caches,
    so they can be shared between threads.
    """

    def __init__(
        self,
        hours: Mapping[int, Sequence[Interval]] | None = None,
        tz: str = "Asia/Shanghai",
        extra_holidays: Iterable[date] = (),
        extra_workdays: Iterable[date] = (),
    ) -> None:
        self._tz = ZoneInfo(tz)
        self._hours = self._normalize_hours(DEFAULT_HOURS if hours is None else hours)
        self._template: tuple[Interval, ...] = next((h for h in self._hours if h), ())
        if not self._template:
            raise ValueError("hours: at least one weekday needs working hours")
        self._extra_holidays = frozenset(extra_holidays)
        self._extra_workdays = frozenset(extra_workdays)
        both = self._extra_holidays & self._extra_workdays
        if both:
            raise ValueError(f"dates both in extra_holidays and extra_workdays: {sorted(both)}")
        self._years: dict[int, _Year] = {}
        self._positions: dict[datetime, tuple[int, int]] = {}  # see _position
        self._day_spans: dict[date, tuple[tuple[datetime, datetime], ...]] = {}  # see _spans

    @property
    def tz(self) -> ZoneInfo:
        return self._tz

    @staticmethod
    def _normalize_hours(hours: Mapping[int, Sequence[Interval]]) -> tuple[tuple[Interval, ...], ...]:
        bad = set(hours) - set(range(7))
        if bad:
            raise ValueError(f"hours: weekday keys must be 0..6, got {sorted(bad)}")
        out: list[tuple[Interval, ...]] = []
        for wd in range(7):
            intervals = sorted(hours.get(wd) or (), key=lambda iv: _time_us(iv[0]))
            prev_end = -1
            for start, end in intervals:
                if start.tzinfo is not None or end.tzinfo is not None:
                    raise ValueError("hours: use naive wall-clock times; the calendar's tz applies")
                s = _time_us(start)
                e = _US_PER_DAY if end == _MIDNIGHT else _time_us(end)
                if not s < e:
                    raise ValueError(f"hours[{wd}]: empty or overnight interval {start}-{end}")
                if s < prev_end:
                    raise ValueError(f"hours[{wd}]: overlapping intervals")
                prev_end = e
            out.append(tuple((start, end) for start, end in intervals))
        return tuple(out)

    # ------------------------------------------------------------------ days

    def _year(self, year: int) -> _Year:
        y = self._years.get(year)
        if y is None:
            y = self._years[year] = self._build_year(year)
        return y

    def _build_year(self, year: int) -> _Year:
        off, adjusted = national_days(year)
        first = date(year, 1, 1).toordinal()
        flags: list[bool] = []
        cum = [0]
        for k in range(366 if _stdlib_calendar.isleap(year) else 365):
            d = date.fromordinal(first + k)
            if d in self._extra_workdays:
                work = True
            elif d in self._extra_holidays or d in off:
                work = False
            else:
                work = d in adjusted or bool(self._hours[d.weekday()])
            flags.append(work)
            cum.append(cum[-1] + sum(_us(b - a) for a, b in self._spans(d, work)))
        return _Year(first, tuple(flags), tuple(cum))

    def is_workday(self, d: date) -> bool:
        """Is ``d`` (a local calendar date) a working day? Cached per year."""
        if isinstance(d, datetime):
            raise TypeError("is_workday takes a date; convert the datetime to the calendar's tz first")
        y = self._year(d.year)
        return y.workday[d.toordinal() - y.first]

    def _spans(self, d: date, work: bool) -> list[tuple[datetime, datetime]]:
        if not work:
            return []
        known = self._day_spans.get(d)  # the same for the calendar's life: kept for recent days
        if known is not None:
            return list(known)
        out = []
        for start, end in self._hours[d.weekday()] or self._template:
            a = datetime.combine(d, start, self._tz).astimezone(UTC)
            b_day = d + _ONE_DAY if end == _MIDNIGHT else d
            b = datetime.combine(b_day, end, self._tz).astimezone(UTC)
            if b > a:  # a DST gap can swallow an interval
                out.append((a, b))
        if len(self._day_spans) >= 512:
            self._day_spans.clear()
        self._day_spans[d] = tuple(out)
        return out

    def working_intervals(self, d: date) -> list[tuple[datetime, datetime]]:
        """Working intervals of local date ``d`` as ``(start, end)`` aware UTC datetimes."""
        return self._spans(d, self.is_workday(d))

    # ------------------------------------------------------------------ time

    def add_business_time(self, start: datetime, duration: timedelta) -> datetime:
        """Return the UTC instant at which ``duration`` of working time has passed after ``start``.

        If the time runs out exactly at a closing time, the result is that closing
        time, not the next opening. ``duration == 0`` returns ``start`` in UTC,
        even outside working hours.
        """
        cur = _as_utc(start, "start")
        rem = _us(duration)
        if rem < 0:
            raise ValueError("duration must not be negative")
        if rem == 0:
            return cur
        d = cur.astimezone(self._tz).date()
        for a, b in self.working_intervals(d):  # first, partial day
            if b <= cur:
                continue
            a = max(a, cur)
            span = _us(b - a)
            if rem <= span:
                return a + timedelta(microseconds=rem)
            rem -= span
        d += _ONE_DAY
        while True:  # whole days via prefix sums, whole years at a time
            y = self._year(d.year)
            i = d.toordinal() - y.first
            if rem > y.cum[-1] - y.cum[i]:
                rem -= y.cum[-1] - y.cum[i]
                d = date(d.year + 1, 1, 1)
                continue
            j = bisect_left(y.cum, y.cum[i] + rem, i + 1) - 1  # the day on which rem runs out
            rem -= y.cum[j] - y.cum[i]
            for a, b in self._spans(date.fromordinal(y.first + j), y.workday[j]):
                span = _us(b - a)
                if rem <= span:
                    return a + timedelta(microseconds=rem)
                rem -= span
            raise AssertionError("unreachable: prefix sums and spans disagree")  # pragma: no cover

    def _position(self, t: datetime) -> tuple[int, int]:
        """Return ``(year, µs)``: working time from local 1 January of ``year`` to ``t``.

        A few recent answers are kept: a list page asks for the same ``now`` once per row."""
        known = self._positions.get(t)
        if known is not None:
            return known
        d = t.astimezone(self._tz).date()
        y = self._year(d.year)
        i = d.toordinal() - y.first
        pos = y.cum[i]
        for a, b in self._spans(d, y.workday[i]):
            if t <= a:
                break
            pos += _us(min(b, t) - a)
        if len(self._positions) >= 8:
            self._positions.clear()
        self._positions[t] = (d.year, pos)
        return d.year, pos

    def business_time_between(self, a: datetime, b: datetime) -> timedelta:
        """Return the working time in ``[a, b]``, or ``timedelta(0)`` if ``b <= a``."""
        a, b = _as_utc(a, "a"), _as_utc(b, "b")
        if b <= a:
            return timedelta(0)
        ya, pa = self._position(a)
        yb, pb = self._position(b)
        total = pb - pa + sum(self._year(y).cum[-1] for y in range(ya, yb))
        return timedelta(microseconds=total)
