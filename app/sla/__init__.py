"""SLA: the business calendar, the clock over stored deadlines, the periodic sweep, CLI and admin views."""
