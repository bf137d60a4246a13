"""Complaint analytics for managers: daily roll-ups, KPIs, trends, breakdowns, spikes, complainant flags."""
