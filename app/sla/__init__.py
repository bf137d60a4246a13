"""SLA: `calendar` (business time on the Chinese calendar), `clock` (deadlines stored on every
transition, run by the workflow machine's EVERY_TRANSITION), `sweep` (the periodic job marking
warnings and breaches once, expiring evidence windows), `display` (template helpers), `cli`
(`flask calendar …`), `views` + `forms` (the calendar admin page, /sla/calendar), `models`.
"""
