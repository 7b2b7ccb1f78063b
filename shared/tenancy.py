"""Tenant-bound data access: no query of a tenant's rows without naming the tenant.

``tenant_session(domain_uuid)`` yields a SQLAlchemy session bound to one domain:

* every ORM SELECT, UPDATE and DELETE gets ``domain_uuid = :domain`` added for every tenant model it
  touches (``with_loader_criteria``), including ``session.get`` and joins;
* new rows get the session's ``domain_uuid`` (a row naming another domain is refused), and an
  existing row can never be moved to another domain; an ORM ``insert(Model).values(...)`` must name
  the session's domain in every row it writes;
* a textual SQL statement must use the ``:domain_uuid`` parameter, which the session fills in.

``system_session()`` is for what belongs to no tenant (``v_domains``): any statement that touches a
``v_voice_*`` table through it raises :class:`TenantScopeError`, and so does any session that was not
opened by one of these two functions. Cross-tenant maintenance (the
workers' sweeps) uses :func:`cross_tenant_keys`, which returns only ``(domain_uuid, primary key)``
pairs; the rows themselves are then read through a tenant session.

That guard is a habit; the wall is PostgreSQL's row-level security (migration 011). Every transaction
of every session begins with ``SET LOCAL ROLE voice_ai_app`` and ``SET LOCAL voice_ai.domain_uuid``
(empty outside a tenant session), and the role's policies let a statement see and write only that
domain's rows — text SQL, Core statements, ``session.connection()``, quoted or escaped identifiers
alike. ``cross_tenant_keys`` runs as ``voice_ai_sweeper``, which may read every tenant and write none.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from typing import Any, cast

from sqlalchemy import event, select, text
from sqlalchemy.orm import ORMExecuteState, Session, sessionmaker, with_loader_criteria
from sqlalchemy.sql.elements import ClauseElement, TextClause

from shared.db import get_engine
from shared.models import TenantScoped

DOMAIN_KEY = "voice_ai_domain_uuid"
SYSTEM_KEY = "voice_ai_system"
SWEEPER_KEY = "voice_ai_sweeper"

APP_ROLE = "voice_ai_app"  # sees the rows of the domain in DOMAIN_SETTING only (migration 011)
SWEEPER_ROLE = "voice_ai_sweeper"  # reads every tenant's rows, writes none
DOMAIN_SETTING = "voice_ai.domain_uuid"


class TenantScopeError(RuntimeError):
    """A statement tried to reach tenant rows without being bound to one tenant."""


def _as_uuid(value: uuid.UUID | str) -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError as exc:
        raise TenantScopeError(f"not a domain_uuid: {value!r}") from exc


def _touches_tenant_table(state: ORMExecuteState) -> bool:
    for mapper in state.all_mappers:
        if issubclass(mapper.class_, TenantScoped):
            return True
    return False


_UNBOUND = "v_voice_* tables are reached through tenant_session(domain_uuid)"


def _inserted_domains(state: ORMExecuteState) -> list[Any]:
    """The ``domain_uuid`` value of every row an INSERT writes (from its VALUES and its parameters)."""
    statement = cast(ClauseElement, state.statement)  # an INSERT, which compiles
    compiled = statement.compile(dialect=state.session.get_bind().dialect)
    found = [value for name, value in compiled.params.items()
             if name == "domain_uuid" or name.startswith("domain_uuid_m")]
    params = state.parameters
    rows = [params] if isinstance(params, Mapping) else list(params or ())
    found += [row["domain_uuid"] for row in rows if "domain_uuid" in row]
    return found


@event.listens_for(Session, "do_orm_execute")
def _scope_statement(state: ORMExecuteState) -> Any:
    """Bind every statement of a scoped session to its tenant, or refuse it."""
    info = state.session.info
    domain = info.get(DOMAIN_KEY)
    statement = state.statement
    if isinstance(statement, TextClause):
        sql = statement.text
        if domain is not None:
            if ":domain_uuid" not in sql:
                raise TenantScopeError("textual SQL in a tenant session must filter on :domain_uuid")
            if state.parameters is None:
                state.parameters = {}
            return state.invoke_statement(params={"domain_uuid": domain})
        if "v_voice_" in sql.lower():
            raise TenantScopeError(_UNBOUND)
        return
    if domain is None:
        if _touches_tenant_table(state):
            raise TenantScopeError(_UNBOUND)
        return
    if state.is_insert:
        domains = _inserted_domains(state) if _touches_tenant_table(state) else [domain]
        if not domains or any(value is None or _as_uuid(value) != domain for value in domains):
            raise TenantScopeError(f"an INSERT through domain {domain}'s session must write that domain_uuid")
        return
    if state.is_column_load or state.is_relationship_load:
        return
    state.statement = statement.options(
        with_loader_criteria(
            TenantScoped,
            lambda cls: cls.domain_uuid == domain,
            include_aliases=True,
            track_closure_variables=False,
        )
    )


@event.listens_for(Session, "before_flush")
def _check_flush(session: Session, _context: Any, _instances: Any) -> None:
    """Stamp new rows with the session's tenant and refuse rows of another tenant."""
    domain = session.info.get(DOMAIN_KEY)
    for obj in list(session.new) + list(session.dirty) + list(session.deleted):
        if not isinstance(obj, TenantScoped):
            continue
        if domain is None:
            raise TenantScopeError("v_voice_* rows are written through tenant_session(domain_uuid)")
        if obj.domain_uuid is None and obj in session.new:
            obj.domain_uuid = domain
        elif _as_uuid(obj.domain_uuid) != domain:
            raise TenantScopeError(
                f"{type(obj).__name__} of domain {obj.domain_uuid} written through domain {domain}"
            )


@event.listens_for(Session, "after_begin")
def _enter_database_role(session: Session, _transaction: Any, connection: Any) -> None:
    """Hold the transaction to row-level security: the product's role, and the session's domain or none.

    ``SET LOCAL`` ends with the transaction, so a pooled connection never carries one tenant's
    setting into another's session.
    """
    domain = session.info.get(DOMAIN_KEY)
    role = SWEEPER_ROLE if session.info.get(SWEEPER_KEY) else APP_ROLE
    connection.execute(
        text("SELECT set_config('role', :role, true), set_config(:setting, :domain, true)"),
        {"role": role, "setting": DOMAIN_SETTING, "domain": str(domain) if domain is not None else ""},
    )


_factory: dict[str, sessionmaker[Session]] = {}


def _sessionmaker(database_url: str | None) -> sessionmaker[Session]:
    engine = get_engine(database_url)
    key = str(engine.url)
    if key not in _factory:
        _factory[key] = sessionmaker(bind=engine, expire_on_commit=False)
    return _factory[key]


@contextmanager
def _scoped_session(database_url: str | None, key: str, value: object) -> Iterator[Session]:
    session = _sessionmaker(database_url)()
    session.info[key] = value
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def tenant_session(domain_uuid: uuid.UUID | str, database_url: str | None = None) -> AbstractContextManager[Session]:
    """A session that sees and writes only ``domain_uuid``'s rows; commits on success."""
    return _scoped_session(database_url, DOMAIN_KEY, _as_uuid(domain_uuid))


def system_session(database_url: str | None = None) -> AbstractContextManager[Session]:
    """A session for rows that belong to no tenant (``v_domains``); commits on success."""
    return _scoped_session(database_url, SYSTEM_KEY, True)


def cross_tenant_keys(
    model: type[TenantScoped], *criteria: Any, limit: int = 1000, database_url: str | None = None
) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """``(domain_uuid, primary key)`` of ``model`` rows matching ``criteria`` in every tenant.

    The one cross-tenant read, for maintenance sweeps; the rows are then loaded with
    :func:`tenant_session` of their own domain.
    """
    pk = model.__mapper__.primary_key[0]
    stmt = select(model.domain_uuid, pk).where(*criteria).limit(limit)
    session = _sessionmaker(database_url)()
    session.info[SWEEPER_KEY] = True
    try:
        with session.connection() as conn:  # Core execution: not subject to the ORM scoping hooks
            return [(row[0], row[1]) for row in conn.execute(stmt)]
    finally:
        session.close()
