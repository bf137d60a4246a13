"""The workflow: `machine` (states and one row per event: roles, guards, checks, effects),
`service` (apply an event: the only writer of ticket.state), `signals` (`ticket_transitioned`,
after the commit) and `receivers`, `events` (the hash-chained audit trail), `policies`
(fast-track rules, the refundable balance), `incidents` (platform incidents), `models`, `labels`.
"""
