"""Tests for app.sla.calendar.BusinessCalendar.

Expected values are worked out by hand in the comments. Default hours are
Mon–Fri 09:00–18:00 Asia/Shanghai (UTC+8, no DST), so 09:00 CST = 01:00Z and
18:00 CST = 10:00Z.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar
import holidays
import pytest

from app.sla.calendar import CHINESE_CALENDAR_YEARS, BusinessCalendar

SH = ZoneInfo("Asia/Shanghai")
H = timedelta(hours=1)
M = timedelta(minutes=1)


def cst(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=SH)


def utc(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=UTC)


CAL = BusinessCalendar()
needs_fallback_2027 = pytest.mark.skipif(
    2027 in CHINESE_CALENDAR_YEARS,
    reason="chinesecalendar now ships 2027 data; expectations below are for the holidays.China fallback",
)


def check(cal: BusinessCalendar, start: datetime, dur: timedelta, expected: datetime) -> None:
    got = cal.add_business_time(start, dur)
    assert got == expected, (got.astimezone(SH), expected.astimezone(SH))
    assert got.tzinfo is UTC
    assert cal.business_time_between(start, got) == dur


# --------------------------------------------------------------- library facts


def test_chinese_calendar_range_is_detected_not_hardcoded():
    first = min(d.year for d in chinese_calendar.holidays)
    last = max(d.year for d in chinese_calendar.holidays)
    assert range(first, last + 1) == CHINESE_CALENDAR_YEARS
    assert 2026 in CHINESE_CALENDAR_YEARS  # chinesecalendar 1.11.0: 2004..2026


def test_is_workday_matches_chinese_calendar_over_its_whole_range():
    d, end = date(CHINESE_CALENDAR_YEARS[0], 1, 1), date(CHINESE_CALENDAR_YEARS[-1], 12, 31)
    while d <= end:
        assert CAL.is_workday(d) == chinese_calendar.is_workday(d), d
        d += timedelta(days=1)


def test_is_workday_matches_holidays_china_after_chinese_calendar_range():
    year = CHINESE_CALENDAR_YEARS[-1] + 1
    cn = holidays.China(years=(year, year + 1))
    d = date(year, 1, 1)
    while d.year == year:
        assert CAL.is_workday(d) == cn.is_working_day(d), d
        d += timedelta(days=1)


def test_is_workday_rejects_datetime():
    with pytest.raises(TypeError):
        CAL.is_workday(cst(2026, 3, 2, 10))


# --------------------------------------------------------------- plain weeks


def test_plain_weekday_within_hours():
    # Mon 2026-03-02 10:00 + 3h -> 13:00 CST = 05:00Z
    check(CAL, cst(2026, 3, 2, 10), 3 * H, utc(2026, 3, 2, 5))
    # a UTC start works the same: 02:00Z = 10:00 CST
    check(CAL, utc(2026, 3, 2, 2), 3 * H, utc(2026, 3, 2, 5))


def test_ending_exactly_at_close_returns_close_not_next_open():
    # Mon 09:00 + 9h = Mon 18:00 CST = 10:00Z (not Tue 09:00)
    check(CAL, cst(2026, 3, 2, 9), 9 * H, utc(2026, 3, 2, 10))
    # Fri 17:00 + 1h -> Fri 18:00, not Mon
    check(CAL, cst(2026, 3, 6, 17), H, utc(2026, 3, 6, 10))
    # 9h + 1 min -> Tue 09:01 CST = 01:01Z
    check(CAL, cst(2026, 3, 2, 9), 9 * H + M, utc(2026, 3, 3, 1, 1))


def test_start_before_opening():
    # Mon 07:30 + 1h -> clock starts 09:00 -> 10:00 CST = 02:00Z
    check(CAL, cst(2026, 3, 2, 7, 30), H, utc(2026, 3, 2, 2))


def test_start_after_closing():
    # Mon 20:00 + 1h -> Tue 09:00 + 1h = Tue 10:00 CST = 02:00Z
    check(CAL, cst(2026, 3, 2, 20), H, utc(2026, 3, 3, 2))
    # exactly at closing time behaves the same
    check(CAL, cst(2026, 3, 2, 18), H, utc(2026, 3, 3, 2))


def test_friday_afternoon_over_weekend():
    # Fri 2026-03-06 16:00 + 4h: 2h Friday, Sat/Sun off, Mon 09:00 + 2h = 11:00 CST = 03:00Z
    check(CAL, cst(2026, 3, 6, 16), 4 * H, utc(2026, 3, 9, 3))
    # starting on Saturday: Mon 09:00 + 1h
    check(CAL, cst(2026, 3, 7, 11), H, utc(2026, 3, 9, 2))


def test_zero_duration_returns_start_in_utc_even_out_of_hours():
    got = CAL.add_business_time(cst(2026, 3, 7, 11), timedelta(0))  # a Saturday
    assert got == utc(2026, 3, 7, 3) and got.tzinfo is UTC


def test_negative_duration_rejected():
    with pytest.raises(ValueError):
        CAL.add_business_time(cst(2026, 3, 2, 10), -H)


def test_naive_datetimes_rejected():
    with pytest.raises(ValueError):
        CAL.add_business_time(datetime(2026, 3, 2, 10), H)
    with pytest.raises(ValueError):
        CAL.business_time_between(datetime(2026, 3, 2, 10), utc(2026, 3, 3))
    with pytest.raises(ValueError):
        CAL.business_time_between(utc(2026, 3, 2), datetime(2026, 3, 3))


def test_business_time_between_basics():
    # Mon 10:00 -> Tue 11:00: 8h Monday + 2h Tuesday
    assert CAL.business_time_between(cst(2026, 3, 2, 10), cst(2026, 3, 3, 11)) == 10 * H
    # b <= a -> 0
    assert CAL.business_time_between(cst(2026, 3, 3), cst(2026, 3, 2)) == timedelta(0)
    # a whole weekend -> 0
    assert CAL.business_time_between(cst(2026, 3, 7, 0), cst(2026, 3, 9, 9)) == timedelta(0)
    # one full plain week (Mon 2026-03-02 00:00 to Mon 03-09 00:00) = 5 * 9h
    assert CAL.business_time_between(cst(2026, 3, 2), cst(2026, 3, 9)) == 45 * H


# --------------------------------------------------------------- holidays / 调休 2026


def test_golden_week_2026_dates():
    # chinese_calendar 2026: Oct 1-7 off (Mid-Autumn Sep 25 off too); worked
    # weekend days Sun Sep 20 and Sat Oct 10.
    for day in range(1, 8):
        assert not CAL.is_workday(date(2026, 10, day))
    assert CAL.is_workday(date(2026, 9, 20)) and date(2026, 9, 20).weekday() == 6
    assert CAL.is_workday(date(2026, 10, 10)) and date(2026, 10, 10).weekday() == 5
    assert not CAL.is_workday(date(2026, 9, 25))
    assert CAL.is_workday(date(2026, 10, 8))


def test_golden_week_2026_deadlines():
    # Wed Sep 30 17:00 + 2h: 1h on Sep 30, Oct 1-7 off, Thu Oct 8 10:00 CST = 02:00Z
    check(CAL, cst(2026, 9, 30, 17), 2 * H, utc(2026, 10, 8, 2))
    # Fri Oct 9 17:00 + 2h: 1h Friday, Sat Oct 10 is 调休 -> Sat 10:00 CST = 02:00Z
    check(CAL, cst(2026, 10, 9, 17), 2 * H, utc(2026, 10, 10, 2))
    # Sat Sep 19 (ordinary Saturday) + 1h -> Sun Sep 20 (调休) 10:00 CST = 02:00Z
    check(CAL, cst(2026, 9, 19, 12), H, utc(2026, 9, 20, 2))
    # Thu Sep 24 17:00 + 2h: 1h Thu, Fri 25 Mid-Autumn, Sat/Sun off -> Mon Sep 28 10:00
    check(CAL, cst(2026, 9, 24, 17), 2 * H, utc(2026, 9, 28, 2))
    # whole span Sep 30 09:00 -> Oct 12 09:00: Sep 30 (9h) + Oct 8, 9, 10 (27h) = 36h
    assert CAL.business_time_between(cst(2026, 9, 30, 9), cst(2026, 10, 12, 9)) == 36 * H


def test_spring_festival_2026():
    # 2026: Feb 15 (Sun) - Feb 23 (Mon) off; Sat Feb 14 and Sat Feb 28 worked.
    assert CAL.is_workday(date(2026, 2, 14))
    assert all(not CAL.is_workday(date(2026, 2, d)) for d in range(15, 24))
    assert CAL.is_workday(date(2026, 2, 28))
    # Fri Feb 13 17:00 + 2h -> Sat Feb 14 (调休) 10:00 CST = 02:00Z
    check(CAL, cst(2026, 2, 13, 17), 2 * H, utc(2026, 2, 14, 2))
    # Sat Feb 14 17:00 + 2h: 1h Sat, Feb 15-23 off -> Tue Feb 24 10:00 CST = 02:00Z
    check(CAL, cst(2026, 2, 14, 17), 2 * H, utc(2026, 2, 24, 2))


# --------------------------------------------------------------- 2027 via holidays.China


@needs_fallback_2027
def test_deadline_crossing_into_2027_skips_new_year():
    # Thu 2026-12-31 17:00 + 2h: 1h on Dec 31; Fri 2027-01-01 New Year (holidays.China);
    # Sat/Sun -> Mon 2027-01-04 10:00 CST = 02:00Z
    assert not CAL.is_workday(date(2027, 1, 1))
    check(CAL, cst(2026, 12, 31, 17), 2 * H, utc(2027, 1, 4, 2))
    # UTC start on Dec 31 that is already Jan 1 in Shanghai (20:00Z = 04:00 CST Jan 1)
    check(CAL, utc(2026, 12, 31, 20), H, utc(2027, 1, 4, 2))
    # 3 days' work from Wed Dec 30 09:00: Dec 30, Dec 31, Jan 4 -> Mon 18:00 CST = 10:00Z
    check(CAL, cst(2026, 12, 30, 9), 27 * H, utc(2027, 1, 4, 10))


@needs_fallback_2027
def test_spring_festival_2027_from_holidays_fallback():
    # holidays.China 2027: eve Fri Feb 5, Feb 6-8, observed Tue Feb 9 + Wed Feb 10.
    assert [CAL.is_workday(date(2027, 2, d)) for d in range(4, 12)] == [
        True, False, False, False, False, False, False, True,
    ]  # fmt: skip
    # Thu Feb 4 17:00 + 2h -> Thu Feb 11 10:00 CST = 02:00Z
    check(CAL, cst(2027, 2, 4, 17), 2 * H, utc(2027, 2, 11, 2))


# --------------------------------------------------------------- overrides


def test_extra_holidays_and_workdays_override_packages():
    cal = BusinessCalendar(
        extra_holidays=[date(2026, 3, 3)],  # an ordinary Tuesday
        extra_workdays=[date(2026, 10, 2), date(2026, 3, 8)],  # a golden-week day, a Sunday
    )
    assert not cal.is_workday(date(2026, 3, 3))
    assert cal.is_workday(date(2026, 10, 2)) and cal.is_workday(date(2026, 3, 8))
    # Mon Mar 2 17:00 + 2h: 1h Mon, Tue off -> Wed Mar 4 10:00 CST = 02:00Z
    check(cal, cst(2026, 3, 2, 17), 2 * H, utc(2026, 3, 4, 2))
    # Sat Mar 7 + 1h -> Sun Mar 8 (extra workday, Monday's hours) 10:00 CST = 02:00Z
    check(cal, cst(2026, 3, 7, 12), H, utc(2026, 3, 8, 2))
    # Sep 30 17:00 + 2h -> Oct 2 (extra workday) 10:00 CST = 02:00Z
    check(cal, cst(2026, 9, 30, 17), 2 * H, utc(2026, 10, 2, 2))
    # the shared default calendar is unaffected
    assert CAL.is_workday(date(2026, 3, 3)) and not CAL.is_workday(date(2026, 10, 2))


def test_conflicting_overrides_rejected():
    with pytest.raises(ValueError):
        BusinessCalendar(extra_holidays=[date(2026, 3, 3)], extra_workdays=[date(2026, 3, 3)])


# --------------------------------------------------------------- custom hours

LUNCH = {wd: [(time(13), time(18)), (time(9), time(12))] for wd in range(5)}  # unsorted on purpose


def test_lunch_break_hours():
    cal = BusinessCalendar(hours=LUNCH)
    # Mon 11:30 + 1h: 30 min to 12:00, lunch, 13:00 + 30 min = 13:30 CST = 05:30Z
    check(cal, cst(2026, 3, 2, 11, 30), H, utc(2026, 3, 2, 5, 30))
    # Mon 11:00 + 1h ends exactly at 12:00 (04:00Z), not 13:00
    check(cal, cst(2026, 3, 2, 11), H, utc(2026, 3, 2, 4))
    # start during lunch: 12:30 + 30 min -> 13:30 CST
    check(cal, cst(2026, 3, 2, 12, 30), 30 * M, utc(2026, 3, 2, 5, 30))
    # a full day is 8h: Mon 09:00 + 8h = Mon 18:00; + 8h 1min = Tue 09:01
    check(cal, cst(2026, 3, 2, 9), 8 * H, utc(2026, 3, 2, 10))
    check(cal, cst(2026, 3, 2, 9), 8 * H + M, utc(2026, 3, 3, 1, 1))
    assert cal.business_time_between(cst(2026, 3, 2, 11), cst(2026, 3, 2, 14)) == 2 * H
    # 调休 Saturday Feb 14 2026 uses the lunch-break hours too
    assert [(a.hour, b.hour) for a, b in cal.working_intervals(date(2026, 2, 14))] == [(1, 4), (5, 10)]


def test_round_the_clock_hours_cross_midnight():
    cal = BusinessCalendar(hours={wd: [(time(0), time(0))] for wd in range(7)})
    # Mon 23:00 + 2h -> Tue 01:00 CST = Mon 17:00Z
    check(cal, cst(2026, 3, 2, 23), 2 * H, utc(2026, 3, 2, 17))
    # Wed Sep 30 23:00 + 2h: Oct 1-7 are still public holidays -> Oct 8 01:00 CST = Oct 7 17:00Z
    check(cal, cst(2026, 9, 30, 23), 2 * H, utc(2026, 10, 7, 17))


def test_dst_zone_counts_real_elapsed_time():
    # Europe/Berlin springs forward on Sun 2026-03-29 (02:00 CET -> 03:00 CEST).
    cal = BusinessCalendar(hours={wd: [(time(0), time(0))] for wd in range(7)}, tz="Europe/Berlin")
    # Sat 23:00 CET (22:00Z) + 3h of real time = 01:00Z = 03:00 CEST
    check(cal, datetime(2026, 3, 28, 23, tzinfo=ZoneInfo("Europe/Berlin")), 3 * H, utc(2026, 3, 29, 1))
    # Sunday Mar 29 is 23h long
    assert cal.business_time_between(utc(2026, 3, 28, 23), utc(2026, 3, 29, 22)) == 23 * H


def test_invalid_hours_rejected():
    with pytest.raises(ValueError):
        BusinessCalendar(hours={0: [(time(18), time(9))]})  # overnight
    with pytest.raises(ValueError):
        BusinessCalendar(hours={0: [(time(9), time(13)), (time(12), time(18))]})  # overlap
    with pytest.raises(ValueError):
        BusinessCalendar(hours={7: [(time(9), time(18))]})
    with pytest.raises(ValueError):
        BusinessCalendar(hours={})


# --------------------------------------------------------------- properties


def _reference_add(cal: BusinessCalendar, start: datetime, dur: timedelta) -> datetime:
    """Slow day-by-day reference implementation."""
    start = start.astimezone(UTC)
    if not dur:
        return start
    d = start.astimezone(cal.tz).date()
    while True:
        for a, b in cal.working_intervals(d):
            if b <= start:
                continue
            a = max(a, start)
            if dur <= b - a:
                return a + dur
            dur -= b - a
        d += timedelta(days=1)


@pytest.mark.parametrize("hours", [None, LUNCH], ids=["default", "lunch"])
def test_round_trip_and_reference_random(hours):
    cal = BusinessCalendar(hours=hours, extra_holidays=[date(2027, 3, 3)], extra_workdays=[date(2027, 3, 6)])
    rng = random.Random(20260101)
    base = utc(2025, 12, 1)
    for _ in range(1500):
        offset = timedelta(seconds=rng.randrange(0, 3 * 365 * 86_400), microseconds=rng.randrange(10**6))
        start = base + offset
        dur = rng.choice(
            [
                timedelta(0),
                timedelta(hours=rng.choice([1, 8, 9, 24, 40, 45])),
                timedelta(seconds=rng.randrange(1, 2000 * 3600), microseconds=rng.randrange(10**6)),
            ]
        )
        end = cal.add_business_time(start, dur)
        assert end.tzinfo is UTC and end >= start
        assert cal.business_time_between(start, end) == dur, (start, dur)
        if dur <= timedelta(hours=300):
            assert end == _reference_add(cal, start, dur), (start, dur)
        # inverse direction: any b maps back to the last working instant <= b
        b = start + timedelta(seconds=rng.randrange(0, 60 * 86_400))
        worked = cal.business_time_between(start, b)
        back = cal.add_business_time(start, worked)
        assert back <= b and cal.business_time_between(back, b) == timedelta(0)


def test_long_duration_is_fast():
    import time as _time

    cal = BusinessCalendar()
    cal.add_business_time(utc(2026, 1, 1), 20_000 * H)  # warm per-year caches
    t0 = _time.perf_counter()
    for _ in range(1000):
        end = cal.add_business_time(utc(2026, 1, 1), 20_000 * H)
    assert _time.perf_counter() - t0 < 1.0
    assert cal.business_time_between(utc(2026, 1, 1), end) == 20_000 * H
