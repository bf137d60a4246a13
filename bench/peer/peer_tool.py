"""Run inside the peer's venv (cwd bench/peer): `seed N`, or `queries` (SQL statements per request).

seed: migrate, then COPY 8 queues (one per Refundesk kind), 50 staff + 20,000 customers, N tickets
with Refundesk's state mix (20 % open: Open/Reopened; 80 % Resolved/Closed) and one follow-up each;
prints a JSON line with a staff session cookie, an API token and sample ticket ids for the loads.
"""

import json
import os
import random
import sys
import uuid
from datetime import UTC, datetime, timedelta

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import django

django.setup()

from django.contrib.auth.models import User  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

T0 = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
KINDS = (
    "wrong_order",
    "not_delivered",
    "invalid_card",
    "not_as_described",
    "duplicate_charge",
    "membership_refund",
    "service_fault",
    "other",
)
OPEN = (1, 2, 1)  # Open, Reopened, Open   (Refundesk: submitted, review, finance)
CLOSED = (3, 4, 4, 4, 4)  # Resolved, Closed (Refundesk: paid, rejected, resolved, withdrawn, closed)


def seed(n: int, n_open: int) -> None:
    call_command("migrate", verbosity=0)
    rnd = random.Random(5)
    raw = connection.cursor().connection
    with raw.cursor() as cur:
        with cur.copy(
            "COPY helpdesk_queue (id, title, slug, allow_public_submission, allow_email_submission, "
            "email_box_ssl, enable_notifications_on_email_events) FROM STDIN"
        ) as cp:
            for i, k in enumerate(KINDS, 1):
                cp.write_row((i, k, k, True, False, False, False))
        with cur.copy(
            "COPY auth_user (id, password, is_superuser, username, first_name, last_name, email, "
            "is_staff, is_active, date_joined) FROM STDIN"
        ) as cp:
            for i in range(2, 52):
                cp.write_row((i, "!", False, f"agent{i}", "", "", f"agent{i}@bench", True, True, T0))
            # helpdesk's customers are submitter e-mails on the ticket (no accounts)
        with cur.copy(
            "COPY helpdesk_usersettings (id, settings_pickled, user_id, email_on_ticket_assign, "
            "email_on_ticket_change, login_view_ticketlist, tickets_per_page, use_email_as_submitter, "
            "ticket_respond_layout) FROM STDIN"
        ) as cp:
            for i in range(2, 52):
                cp.write_row((i, "", i, False, False, True, 25, True, "tabs"))
        with cur.copy(
            "COPY helpdesk_ticket (id, title, created, modified, submitter_email, status, on_hold, "
            "description, priority, assigned_to_id, queue_id, secret_key) FROM STDIN"
        ) as cp:
            for i in range(1, n + 1):
                created = T0 - timedelta(seconds=rnd.randrange(90 * 86_400))
                status = OPEN[i % 3] if i <= n_open else CLOSED[i % 5]
                cp.write_row(
                    (
                        i,
                        f"Order KM{i:010d}: {KINDS[i % 8]}",
                        created,
                        created,
                        f"c{52 + i % 20_000}@bench.example",
                        status,
                        False,
                        "bench",
                        3,
                        2 + i % 50,
                        1 + i % 8,
                        str(uuid.UUID(int=i)),
                    )
                )
        with cur.copy("COPY helpdesk_followup (id, date, title, comment, public, ticket_id, user_id) FROM STDIN") as cp:
            for i in range(1, n + 1):
                cp.write_row((i, T0, "Ticket Opened", "bench", True, i, None))
        for table in ("helpdesk_queue", "auth_user", "helpdesk_usersettings", "helpdesk_ticket", "helpdesk_followup"):
            cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        cur.execute("ANALYZE")
    raw.commit()
    admin = User.objects.create_superuser("bench", "bench@bench", "bench-password")
    from django.test import Client
    from rest_framework.authtoken.models import Token

    client = Client()
    client.force_login(admin)
    sample = list(range(1, n_open + 1, max(1, n_open // 200)))[:200]
    print(
        json.dumps(
            {
                "sessionid": client.cookies["sessionid"].value,
                "token": Token.objects.create(user=admin).key,
                "tickets": [
                    [i, f"c{52 + i % 20_000}@bench.example", str(uuid.UUID(int=i)), KINDS[i % 8]] for i in sample
                ],
            }
        )
    )


def queries(paths: list[str], token: str) -> None:
    """SQL statements of one request per path (warm: the second request is counted)."""
    from django.db import reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    admin = User.objects.get(username="bench")
    client = Client()
    client.force_login(admin)
    out = {}
    for spec in paths:
        method, path = spec.split(" ", 1)
        for _ in range(2):
            reset_queries()
            with CaptureQueriesContext(connection) as ctx:
                if method == "POST":
                    r = client.post(
                        path,
                        data=json.dumps(
                            {
                                "queue": 1,
                                "title": "bench",
                                "description": "bench",
                                "submitter_email": "c52@bench.example",
                                "priority": 3,
                            }
                        ),
                        content_type="application/json",
                        HTTP_AUTHORIZATION=f"Token {token}",
                    )
                else:
                    r = client.get(path)
        out[spec] = {"status": r.status_code, "queries": len(ctx.captured_queries)}
    print(json.dumps(out))


if __name__ == "__main__":
    if sys.argv[1] == "seed":
        seed(int(sys.argv[2]), int(sys.argv[3]))
    else:
        queries(json.loads(sys.argv[2]), sys.argv[3])
