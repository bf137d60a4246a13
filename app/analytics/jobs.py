"""Periodic analytics jobs (listed in the PERIODIC table of app/jobs.py)."""

from __future__ import annotations

from app.analytics import services


def rollup_analytics() -> int:
    """Every 15 minutes: the last 35 filing days, the complainant flags and the snapshot figures."""
    return services.rollup()


def rollup_analytics_history() -> int:
    """Nightly: the whole history (tickets older than the recent window rarely change)."""
    return services.rollup(days=services.HISTORY_DAYS)
