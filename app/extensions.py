"""Flask extensions, created unbound; create_app binds them."""

import select as _select
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, ClassVar

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import CursorResult, Engine, MetaData, Result, Table, event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import DeclarativeBase

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)

    if TYPE_CHECKING:
        # Every model here is mapped to one Table (DeclarativeBase types it as any FromClause),
        # so `Model.__table__` works with update()/delete() and has `.c` for the type checker too.
        __table__: ClassVar[Table]


db = SQLAlchemy(model_class=Base)

# Models subclass `Model`: Flask-SQLAlchemy's `db.Model` at run time; for the type checker the
# declarative `Base` it is built from (mypy cannot use the attribute `db.Model` as a base class).
if TYPE_CHECKING:
    Model = Base
else:
    Model = db.Model
migrate = Migrate()
csrf = CSRFProtect()
login = LoginManager()
babel = Babel()
limiter = Limiter(key_func=get_remote_address)


def rowcount(result: Result[Any]) -> int:
    """Rows an UPDATE/DELETE run with `db.session.execute` matched. Session.execute is typed as
    returning a Result; for these statements it is a CursorResult, which has the count."""
    if not isinstance(result, CursorResult):
        raise TypeError(f"no rowcount on {type(result).__name__}: not the result of an UPDATE or DELETE")
    return result.rowcount


@contextmanager
def keep_loaded() -> Iterator[None]:
    """Commits inside this block leave the session's loaded objects as they are instead of expiring
    them, so what the request goes on to read of its own writes costs no reload. For a block
    whose objects this transaction itself wrote (a ticket just filed): what is in memory is what
    was committed, and a later write still meets the ticket's version check."""
    session = db.session()
    before = session.expire_on_commit
    session.expire_on_commit = False
    try:
        yield
    finally:
        session.expire_on_commit = before


def check_liveness_on_checkout(engine: Engine) -> None:
    """Make sure a pooled PostgreSQL connection is alive when a request takes it, without a round trip.

    An idle connection has nothing to read; one the server closed (a restart, a failover,
    `pg_terminate_backend`, an idle timeout) has its termination notice or EOF waiting on the socket.
    A readable (or closed) connection is discarded and the pool hands out another (SQLAlchemy retries
    a checkout that raises DisconnectionError). This replaces `pool_pre_ping`, which sent a
    `SELECT 1` before every request's first statement."""
    if engine.dialect.name != "postgresql":
        return

    @event.listens_for(engine, "checkout")
    def _alive(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        if dbapi_connection.closed or dbapi_connection.info.status != 0:  # pq.ConnStatus.OK
            raise DisconnectionError("connection closed")
        readable, _w, _x = _select.select([dbapi_connection.fileno()], [], [], 0)
        if readable:
            raise DisconnectionError("the server closed the connection (or wrote to an idle one)")
