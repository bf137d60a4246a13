"""ticket_activity backfill: the queue markers of tickets that had their history before the table existed

Revision ID: 0019_activity_backfill
Revises: 0018_identifier_search

Migration 0014 created `ticket_activity` empty; its flush listener (app/tickets/activity.py) keeps
it from then on, so a ticket whose customer replied, added evidence, appealed or urged before the
upgrade carried no marker until its next activity. This derives each missing row from the messages
and the audit trail with the listener's rules, in one INSERT … SELECT (no loop over tickets):

- a staff action: a public message or an internal note by an agent or a manager (the roles with
  `assignable`), or an audit entry by one (`actor_role`) other than the bookkeeping entries
  (assigned, tag_added, merged_from); `staff_acted_at` is the latest;
- after it (after nothing, if staff never acted): the customer's public messages and evidence
  (`evidence_added` not marked `staff`, `provide_evidence`) → `customer_waiting_since` (the first)
  and `waiting_for` (the latest's: "message" or "evidence"); appeal and reopen → `appealed_at`,
  urge → `urged_at` (the latest of each).

A row is written for a ticket with any such action, as the listener would have; a ticket that
already has a row (activity since 0014) is left as it is, so running it again changes nothing.
The rules are frozen here as they were when this was written; a change to the listener later
does not rewrite history.
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import text
from sqlalchemy.engine import Connection

revision = "0019_activity_backfill"
down_revision = "0018_identifier_search"
branch_labels = None
depends_on = None

STAFF_ROLES = ("agent", "manager")  # permission `assignable`
CUSTOMER_ROLES = ("customer",)  # permission `own_tickets`
NOT_ACTING = ("assigned", "tag_added", "merged_from")
EVIDENCE_EVENTS = ("evidence_added", "provide_evidence")
APPEAL_EVENTS = ("appeal", "reopen")


def _in(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"  # constants of this module only


def backfill_sql(dialect_name: str) -> str:
    """The INSERT … SELECT for `dialect_name` ("postgresql" or "sqlite")."""
    if dialect_name == "postgresql":
        by_staff = "COALESCE(e.payload ->> 'staff', 'false') = 'true'"
    else:
        by_staff = "COALESCE(json_extract(e.payload, '$.staff'), 0) = 1"
    return f"""
INSERT INTO ticket_activity
    (ticket_id, customer_waiting_since, waiting_for, appealed_at, urged_at, staff_acted_at)
WITH staff_acts AS (
    SELECT m.ticket_id, m.created_at AS at
      FROM messages m JOIN users u ON u.id = m.author_id
     WHERE u.role IN {_in(STAFF_ROLES)}
    UNION ALL
    SELECT e.ticket_id, e.created_at
      FROM ticket_events e
     WHERE e.actor_role IN {_in(STAFF_ROLES)} AND e.event NOT IN {_in(NOT_ACTING)}
),
last_staff AS (
    SELECT ticket_id, MAX(at) AS at FROM staff_acts GROUP BY ticket_id
),
customer_acts AS (
    SELECT m.ticket_id, m.created_at AS at, 'message' AS what
      FROM messages m JOIN users u ON u.id = m.author_id
     WHERE u.role IN {_in(CUSTOMER_ROLES)} AND NOT m.internal
    UNION ALL
    SELECT e.ticket_id, e.created_at,
           CASE WHEN e.event IN {_in(EVIDENCE_EVENTS)} THEN 'evidence'
                WHEN e.event IN {_in(APPEAL_EVENTS)} THEN 'appeal'
                ELSE 'urge' END
      FROM ticket_events e
     WHERE e.actor_role IN {_in(CUSTOMER_ROLES)}
       AND ((e.event IN {_in(EVIDENCE_EVENTS)} AND NOT ({by_staff}))
            OR e.event IN {_in(APPEAL_EVENTS)} OR e.event = 'urge')
),
pending AS (
    SELECT c.ticket_id, c.at, c.what
      FROM customer_acts c LEFT JOIN last_staff s ON s.ticket_id = c.ticket_id
     WHERE s.at IS NULL OR c.at > s.at
),
waiting AS (
    SELECT ticket_id,
           MIN(CASE WHEN what IN ('message', 'evidence') THEN at END) AS since,
           MAX(CASE WHEN what = 'appeal' THEN at END) AS appealed_at,
           MAX(CASE WHEN what = 'urge' THEN at END) AS urged_at
      FROM pending GROUP BY ticket_id
),
latest_reply AS (
    SELECT ticket_id, what,
           ROW_NUMBER() OVER (PARTITION BY ticket_id ORDER BY at DESC, what DESC) AS n
      FROM pending WHERE what IN ('message', 'evidence')
),
acted AS (
    SELECT ticket_id FROM last_staff
    UNION
    SELECT ticket_id FROM customer_acts
)
SELECT a.ticket_id, w.since, r.what, w.appealed_at, w.urged_at, s.at
  FROM acted a
  LEFT JOIN last_staff s ON s.ticket_id = a.ticket_id
  LEFT JOIN waiting w ON w.ticket_id = a.ticket_id
  LEFT JOIN latest_reply r ON r.ticket_id = a.ticket_id AND r.n = 1
 WHERE NOT EXISTS (SELECT 1 FROM ticket_activity t WHERE t.ticket_id = a.ticket_id)
ON CONFLICT (ticket_id) DO NOTHING
"""


def backfill(conn: Connection) -> int:
    """Write the missing rows on `conn` (in its transaction); the number written."""
    return conn.execute(text(backfill_sql(conn.dialect.name))).rowcount


def upgrade():
    backfill(op.get_bind())


def downgrade():
    pass  # the rows are what the listener would have written: nothing to undo
