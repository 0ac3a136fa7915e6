"""Alias moves and their audit trail, serialized in the registry's own database.

Every release (a new challenger, a promotion, a rollback) is one transaction on the database
behind the MLflow registry. It takes the write lock first (``BEGIN IMMEDIATE`` on sqlite, a
locked row elsewhere), then the caller reads the aliases, verifies and gates, and moves the
alias in MLflow's own table together with the audit row (``ontime_audit``); then it commits.
So an audit's ``from`` is always the alias it replaced, a second release waits for the
first (up to ``release_wait_seconds``) instead of interleaving with it, a crash leaves the
alias and the trail as they were, and hosts that share the database share the lock and the
history. The local JSON-lines file is a copy, appended after the commit.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import (
    Column,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    delete,
    event,
    insert,
    inspect,
    select,
)
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.pool import NullPool

from ontime.errors import OntimeError
from ontime.settings import Settings
from training import audit, registry

log = logging.getLogger(__name__)

DATABASES = ("sqlite", "postgresql", "mysql", "mssql")
_TABLES = MetaData()
AUDIT = Table(
    "ontime_audit",
    _TABLES,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("model", String(256), nullable=False, index=True),
    Column("alias", String(256), nullable=False),
    Column("from_version", String(32)),
    Column("to_version", String(32)),
    Column("action", String(32), nullable=False),
    Column("at", String(64), nullable=False),
    Column("entry", Text, nullable=False),  # the whole entry as JSON
)
# Databases other than sqlite lock one row per model (SELECT ... FOR UPDATE).
LOCK = Table("ontime_release_lock", _TABLES, Column("model", String(256), primary_key=True))


def database_url(settings: Settings) -> str:
    """The database that holds the registry: ``release_db``, else the tracking URI."""
    configured = settings.training.registry.release_db
    if configured:
        return configured
    uri = registry.tracking_uri(settings)
    if uri.split(":", 1)[0].split("+", 1)[0] in DATABASES:
        return uri
    raise OntimeError(
        f"the tracking URI {uri} is not a database, so releases have nowhere to lock and "
        "audit; set training.registry.release_db to the database behind the tracking server"
    )


def _sqlite_file(url: str) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return None
    return Path(parsed.database)


@functools.lru_cache(maxsize=8)
def _engine(url: str, wait_s: float, lock: bool) -> Engine:
    """An engine without a pool (a release is rare; nothing should stay connected)."""
    if _sqlite_file(url) is None:
        return create_engine(url, poolclass=NullPool)
    engine = create_engine(url, poolclass=NullPool, connect_args={"timeout": wait_s})

    @event.listens_for(engine, "connect")
    def _no_driver_transactions(dbapi_connection, _record) -> None:
        # pysqlite would open its own deferred transaction at the first write; the lock
        # must be taken at BEGIN, before anything is read.
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin(connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE" if lock else "BEGIN")

    return engine


def _mlflow_tables() -> tuple[Table, Table, list]:
    """MLflow's alias and model-version tables, and the row filter for our workspace."""
    from mlflow.store.model_registry.dbmodels.models import (
        SqlModelVersion,
        SqlRegisteredModelAlias,
    )

    aliases, versions = SqlRegisteredModelAlias.__table__, SqlModelVersion.__table__
    if "workspace" in aliases.c:
        from mlflow.utils.workspace_utils import DEFAULT_WORKSPACE_NAME

        return aliases, versions, [DEFAULT_WORKSPACE_NAME]
    return aliases, versions, []


class ReleaseTransaction:
    """What a release may do while it holds the lock: read, then move aliases with entries."""

    def __init__(self, connection: Connection, model: str) -> None:
        self.connection = connection
        self.model = model
        self.entries: list[dict] = []
        self._aliases, self._versions, self._workspace = _mlflow_tables()

    def _of_model(self, table: Table) -> list:
        where = [table.c.name == self.model]
        if self._workspace:
            where.append(table.c.workspace == self._workspace[0])
        return where

    def aliases(self) -> dict[str, str]:
        """``{alias: version}`` as the registry holds them now."""
        table = self._aliases
        rows = self.connection.execute(
            select(table.c.alias, table.c.version).where(*self._of_model(table))
        )
        return {alias: str(version) for alias, version in rows}

    def history(self) -> list[dict]:
        """This model's audit entries, oldest first."""
        return _entries(self.connection, self.model)

    def move(self, entry: dict) -> None:
        """Point ``entry['alias']`` at ``entry['to']`` (None removes it) and record it."""
        table, alias, version = self._aliases, entry["alias"], entry["to"]
        self.connection.execute(delete(table).where(*self._of_model(table), table.c.alias == alias))
        if version is not None:
            self._require_version(int(version))
            values = {"name": self.model, "alias": alias, "version": int(version)}
            if self._workspace:
                values["workspace"] = self._workspace[0]
            self.connection.execute(insert(table).values(**values))
        self.connection.execute(insert(AUDIT).values(**_row(entry)))
        self.entries.append(entry)

    def _require_version(self, version: int) -> None:
        from mlflow.entities.model_registry.model_version_stages import STAGE_DELETED_INTERNAL

        table = self._versions
        found = self.connection.execute(
            select(table.c.version).where(
                *self._of_model(table),
                table.c.version == version,
                table.c.current_stage != STAGE_DELETED_INTERNAL,
            )
        ).first()
        if found is None:
            raise OntimeError(f"model '{self.model}' has no version {version}")


def _row(entry: dict) -> dict:
    return {
        "model": entry["model"],
        "alias": entry["alias"],
        "from_version": entry.get("from"),
        "to_version": entry.get("to"),
        "action": entry["action"],
        "at": entry["at"],
        "entry": json.dumps(entry, sort_keys=True, default=str),
    }


def _entries(connection: Connection, model: str | None) -> list[dict]:
    query = select(AUDIT.c.entry).order_by(AUDIT.c.id)
    if model is not None:
        query = query.where(AUDIT.c.model == model)
    return [json.loads(text) for (text,) in connection.execute(query)]


def _create_tables(connection: Connection, copy: Path) -> None:
    """Create the audit table once, starting it with the entries of the older local file."""
    if inspect(connection).has_table(AUDIT.name):
        return
    _TABLES.create_all(connection)
    legacy = audit.read(copy)
    if legacy:
        connection.execute(insert(AUDIT), [_row(entry) for entry in legacy])
        log.info("audit trail: imported %d entries from %s", len(legacy), copy)


def _lock_row(connection: Connection, model: str, wait_s: float) -> None:
    """Databases with row locks: hold this model's lock row until the transaction ends.

    (Written for PostgreSQL and MySQL; only the sqlite path is tested here.)
    """
    dialect = connection.dialect.name
    if dialect == "postgresql":
        connection.exec_driver_sql(f"SET LOCAL lock_timeout = '{int(wait_s * 1000)}ms'")
    elif dialect == "mysql":
        connection.exec_driver_sql(f"SET SESSION innodb_lock_wait_timeout = {max(1, int(wait_s))}")
    try:
        with connection.begin_nested():
            connection.execute(insert(LOCK).values(model=model))
    except IntegrityError:  # it exists already
        pass
    connection.execute(select(LOCK.c.model).where(LOCK.c.model == model).with_for_update())


def _database_error(exc: OperationalError, model: str, wait_s: float) -> OntimeError:
    """A lock wait that ran out says so; any other database failure is named as such."""
    if "lock" in str(exc.orig).lower():  # sqlite: locked; others: lock (wait) timeout
        return OntimeError(
            f"another release of model '{model}' held the registry lock for over {wait_s:g} "
            "s; nothing was changed, try again (training.registry.release_wait_seconds)"
        )
    return OntimeError(f"the registry database failed, nothing was changed: {exc.orig}")


@contextmanager
def transaction(settings: Settings) -> Iterator[ReleaseTransaction]:
    """Hold the release lock for the block; commit its moves at the end, or none of them."""
    url, model = database_url(settings), registry.registered_name(settings)
    registry_settings = settings.training.registry
    path = _sqlite_file(url)
    if path is not None and not path.exists():
        raise OntimeError(f"no model registry at {url}; run `ontime train`")
    wait_s = registry_settings.release_wait_seconds
    engine = _engine(url, wait_s, lock=True)
    with engine.connect() as connection:
        try:
            if path is None:  # row locks need the tables first, in their own transaction
                with connection.begin():
                    _create_tables(connection, registry_settings.audit_log)
            outer = connection.begin()
            if path is None:
                _lock_row(connection, model, wait_s)
        except OperationalError as exc:
            raise _database_error(exc, model, wait_s) from None
        try:
            _create_tables(connection, registry_settings.audit_log)
            release = ReleaseTransaction(connection, model)
            yield release
            outer.commit()
        except OperationalError as exc:
            outer.rollback()
            raise _database_error(exc, model, wait_s) from None
        except BaseException:
            outer.rollback()
            raise
    for entry in release.entries:
        try:
            audit.append(registry_settings.audit_log, entry)
        except OSError as exc:  # only a copy: the database has the entry
            log.warning("audit copy %s not written: %s", registry_settings.audit_log, exc)


def read_history(settings: Settings, model: str | None = None) -> list[dict]:
    """Audit entries, oldest first (of one model when given), from the registry's database.

    A registry from before the audit table (or none at all) has its trail in the local
    file only, so that is read instead; reading never creates a database.
    """
    url, copy = database_url(settings), settings.training.registry.audit_log
    path = _sqlite_file(url)
    if path is not None and not path.exists():
        return audit.read(copy, model=model)
    engine = _engine(url, settings.training.registry.release_wait_seconds, lock=False)
    with engine.connect() as connection:
        if not inspect(connection).has_table(AUDIT.name):
            return audit.read(copy, model=model)
        return _entries(connection, model)
