"""Tenant isolation: domain B's data access never returns, changes or deletes domain A's rows."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import delete, func, insert, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError, ProgrammingError
from sqlalchemy.orm import Session

from shared.db import get_engine
from shared.models import (
    TENANT_MODELS,
    Conversation,
    Document,
    DocumentChunk,
    Domain,
    Message,
    Provider,
    Secretary,
    TransferRule,
)
from shared.tenancy import TenantScopeError, cross_tenant_keys, system_session, tenant_session
from tests.factories import (
    add_chunk,
    add_conversation,
    add_document,
    add_message,
    add_provider,
    add_rule,
    add_secretary,
    populate,
)


@pytest.fixture
def two_tenants(make_domain):
    a, b = make_domain("a.test"), make_domain("b.test")
    return (a, populate(a)), (b, populate(b))


@pytest.mark.parametrize("model", TENANT_MODELS, ids=lambda m: m.__tablename__)
def test_reads_see_only_own_tenant(two_tenants, model) -> None:
    (a, rows_a), (b, rows_b) = two_tenants
    with tenant_session(b) as s:
        pks = {getattr(r, model.__mapper__.primary_key[0].name) for r in s.scalars(select(model))}
        assert rows_b[model] in pks and rows_a[model] not in pks
        assert s.get(model, rows_a[model]) is None  # a UUID taken from domain A finds nothing
        assert s.get(model, rows_b[model]) is not None


@pytest.mark.parametrize("model", TENANT_MODELS, ids=lambda m: m.__tablename__)
def test_bulk_update_and_delete_cannot_reach_other_tenant(two_tenants, model) -> None:
    (a, rows_a), (b, _rows_b) = two_tenants
    pk = model.__mapper__.primary_key[0]
    with tenant_session(a) as s:
        created = s.get(model, rows_a[model]).created_at
    with tenant_session(b) as s:
        changed = s.execute(update(model).where(pk == rows_a[model]).values(created_at=func.now() - text("interval '1 day'")),
                            execution_options={"synchronize_session": False}).rowcount
        deleted = s.execute(delete(model).where(pk == rows_a[model]),
                            execution_options={"synchronize_session": False}).rowcount
    assert changed == 0 and deleted == 0
    with tenant_session(a) as s:
        row = s.get(model, rows_a[model])
        assert row is not None and row.created_at == created


def test_joins_are_bound_too(two_tenants) -> None:
    (a, rows_a), (b, _) = two_tenants
    with tenant_session(b) as s:
        joined = s.execute(
            select(Message.message_uuid).join(Conversation, Conversation.conversation_uuid == Message.conversation_uuid)
        ).scalars().all()
        assert rows_a[Message] not in joined


def test_writing_a_row_of_another_tenant_is_refused(two_tenants) -> None:
    (a, _), (b, _) = two_tenants
    with pytest.raises(TenantScopeError):
        with tenant_session(b) as s:
            s.add(Secretary(domain_uuid=a, name="intruder"))
    with tenant_session(a) as s:
        assert s.scalars(select(Secretary).where(Secretary.name == "intruder")).first() is None


def test_a_row_cannot_move_to_another_tenant(two_tenants) -> None:
    (a, rows_a), (b, _) = two_tenants
    with pytest.raises(TenantScopeError):
        with tenant_session(a) as s:
            s.get(Secretary, rows_a[Secretary]).domain_uuid = b


def test_new_rows_take_the_session_tenant(make_domain) -> None:
    a = make_domain()
    secretary = add_secretary(a)
    with tenant_session(a) as s:
        assert s.get(Secretary, secretary).domain_uuid == a


def test_textual_sql_must_name_the_tenant(two_tenants) -> None:
    (a, rows_a), (b, _) = two_tenants
    with tenant_session(b) as s:
        with pytest.raises(TenantScopeError):
            s.execute(text("SELECT count(*) FROM v_voice_secretaries"))
        found = s.execute(
            text("SELECT voice_secretary_uuid FROM v_voice_secretaries WHERE domain_uuid = :domain_uuid")
        ).scalars().all()
        assert rows_a[Secretary] not in found and len(found) == 1


def test_system_session_cannot_reach_tenant_tables(two_tenants) -> None:
    with system_session() as s:
        with pytest.raises(TenantScopeError):
            s.scalars(select(Secretary)).all()
        with pytest.raises(TenantScopeError):
            s.execute(text("SELECT * FROM v_voice_secretaries"))
        assert s.scalars(select(Domain)).first() is not None


def test_cross_tenant_keys_name_their_tenant(two_tenants) -> None:
    (a, rows_a), (b, rows_b) = two_tenants
    keys = set(cross_tenant_keys(Secretary, Secretary.domain_uuid.in_([a, b])))
    assert keys == {(a, rows_a[Secretary]), (b, rows_b[Secretary])}


def test_deleting_a_domain_deletes_its_rows(make_domain) -> None:
    a, b = make_domain(), make_domain()
    rows_a, rows_b = populate(a), populate(b)
    with system_session() as s:
        s.delete(s.get(Domain, a))
    for model in TENANT_MODELS:
        assert cross_tenant_keys(model, model.__mapper__.primary_key[0] == rows_a[model]) == []
        assert len(cross_tenant_keys(model, model.__mapper__.primary_key[0] == rows_b[model])) == 1


def test_domain_uuid_must_be_a_uuid() -> None:
    with pytest.raises(TenantScopeError):
        with tenant_session("not-a-uuid"):
            pass
    with tenant_session(str(uuid.uuid4())) as s:  # a string UUID is fine
        assert s.scalars(select(Secretary)).all() == []


def test_a_session_that_names_no_tenant_cannot_reach_tenant_tables(two_tenants) -> None:
    (a, _), _ = two_tenants
    with Session(get_engine()) as s:
        with pytest.raises(TenantScopeError):
            s.scalars(select(Secretary)).all()
        with pytest.raises(TenantScopeError):
            s.execute(text("SELECT * FROM V_VOICE_SECRETARIES"))
        s.add(Secretary(domain_uuid=a, name="unbound"))
        with pytest.raises(TenantScopeError):
            s.flush()


def test_an_orm_insert_must_write_the_sessions_domain(two_tenants) -> None:
    (a, rows_a), (b, _) = two_tenants
    values = {"conversation_uuid": rows_a[Conversation], "sequence": 99, "role": "user", "content": "x"}
    with pytest.raises(TenantScopeError):
        with tenant_session(b) as s:
            s.execute(pg_insert(Message).values(domain_uuid=a, **values))
    with pytest.raises(TenantScopeError):
        with tenant_session(a) as s:
            s.execute(pg_insert(Message).values([{"domain_uuid": a, **values},
                                                 {"domain_uuid": b, **values, "sequence": 100}]))
    with pytest.raises(TenantScopeError):
        with tenant_session(a) as s:
            s.execute(pg_insert(Message).values(**values))  # naming no domain at all
    with tenant_session(a) as s:
        s.execute(pg_insert(Message).values(domain_uuid=a, **values))
        assert s.scalars(select(Message).where(Message.sequence == 99)).one().content == "x"


# Every reference from one tenant row to another, as a row of domain B naming domain A's row.
CROSS_TENANT_REFERENCES = {
    "secretary.stt_provider_uuid": lambda b, rows_a: add_secretary(b, stt_provider_uuid=rows_a[Provider]),
    "secretary.tts_provider_uuid": lambda b, rows_a: add_secretary(b, tts_provider_uuid=rows_a[Provider]),
    "secretary.llm_provider_uuid": lambda b, rows_a: add_secretary(b, llm_provider_uuid=rows_a[Provider]),
    "secretary.embeddings_provider_uuid":
        lambda b, rows_a: add_secretary(b, embeddings_provider_uuid=rows_a[Provider]),
    "document.voice_secretary_uuid": lambda b, rows_a: add_document(b, voice_secretary_uuid=rows_a[Secretary]),
    "chunk.document_uuid": lambda b, rows_a: add_chunk(b, rows_a[Document], [1.0, 0.0], index=1),
    "transfer_rule.voice_secretary_uuid": lambda b, rows_a: add_rule(b, voice_secretary_uuid=rows_a[Secretary]),
    "conversation.voice_secretary_uuid":
        lambda b, rows_a: add_conversation(b, voice_secretary_uuid=rows_a[Secretary]),
    "message.conversation_uuid": lambda b, rows_a: add_message(b, rows_a[Conversation], sequence=1),
}


@pytest.mark.parametrize("insert", CROSS_TENANT_REFERENCES.values(), ids=CROSS_TENANT_REFERENCES.keys())
def test_the_database_refuses_a_reference_to_another_tenants_row(two_tenants, insert) -> None:
    """Not only the data-access layer: the foreign keys are (domain_uuid, column), so even SQL that
    names the right domain_uuid cannot point a row at another domain's row."""
    (_a, rows_a), (b, _) = two_tenants
    with pytest.raises(IntegrityError, match="_tenant_fkey"):
        insert(b, rows_a)


def test_a_reference_cannot_be_changed_to_another_tenants_row(two_tenants) -> None:
    (_a, rows_a), (b, rows_b) = two_tenants
    with pytest.raises(IntegrityError, match="v_voice_secretaries_stt_provider_uuid_tenant_fkey"):
        with tenant_session(b) as s:
            s.get(Secretary, rows_b[Secretary]).stt_provider_uuid = rows_a[Provider]
    with tenant_session(b) as s:
        assert s.get(Secretary, rows_b[Secretary]).stt_provider_uuid is None


def test_deleting_a_referenced_row_still_cascades_or_nulls(make_domain) -> None:
    """A provider's delete nulls the secretaries' reference; a secretary's deletes its documents (and
    their chunks) and rules and nulls its conversations'; a conversation's deletes its messages."""
    a = make_domain()
    provider = add_provider(a, "stt")
    secretary = add_secretary(a, stt_provider_uuid=provider)
    document = add_document(a, voice_secretary_uuid=secretary)
    chunk = add_chunk(a, document, [1.0, 0.0])
    rule = add_rule(a, voice_secretary_uuid=secretary)
    conversation = add_conversation(a, voice_secretary_uuid=secretary)
    message = add_message(a, conversation)
    with tenant_session(a) as s:
        s.delete(s.get(Provider, provider))
    with tenant_session(a) as s:
        assert s.get(Secretary, secretary).stt_provider_uuid is None
        s.delete(s.get(Secretary, secretary))
    with tenant_session(a) as s:
        assert [s.get(model, pk) for model, pk in ((Document, document), (DocumentChunk, chunk),
                                                  (TransferRule, rule))] == [None, None, None]
        kept = s.get(Conversation, conversation)
        assert kept.voice_secretary_uuid is None and kept.domain_uuid == a
        s.delete(kept)
    with tenant_session(a) as s:
        assert s.get(Message, message) is None


def test_deleting_a_domain_deletes_rows_that_reference_each_other(make_domain) -> None:
    a, b = make_domain(), make_domain()
    for domain in (a, b):
        providers = {kind: add_provider(domain, kind) for kind in ("stt", "tts", "llm", "embeddings")}
        secretary = add_secretary(domain, **{f"{kind}_provider_uuid": pk for kind, pk in providers.items()})
        for owner in (secretary, None):  # the secretary's own document and rule, and domain-wide ones
            add_chunk(domain, add_document(domain, voice_secretary_uuid=owner), [1.0, 0.0])
            add_rule(domain, voice_secretary_uuid=owner)
        add_message(domain, add_conversation(domain, voice_secretary_uuid=secretary))
    with system_session() as s:
        s.delete(s.get(Domain, a))
    for model in TENANT_MODELS:
        assert cross_tenant_keys(model, model.domain_uuid == a) == [], model.__tablename__
        assert cross_tenant_keys(model, model.domain_uuid == b) or model.__tablename__ == "v_voice_domain_settings"


# ------------------------------------------------------------------------------------------------------
# Row-level security (migration 011): the bypasses of the Python guard above, each run through the
# product's own engine and sessions, find and change nothing of another tenant.

ESCAPED_SECRETARIES = r'U&"\0076_voice_secretaries"'  # v_voice_secretaries, spelled so no guard sees it


def _secretary_names(domain: uuid.UUID) -> set[str]:
    with tenant_session(domain) as s:
        return set(s.scalars(select(Secretary.name)))


def test_text_sql_that_mentions_the_tenant_still_sees_only_it(two_tenants) -> None:
    (a, rows_a), (b, rows_b) = two_tenants
    names_a = _secretary_names(a)
    with tenant_session(b) as s:
        found = s.execute(text("SELECT voice_secretary_uuid FROM v_voice_secretaries "
                               "WHERE domain_uuid = :domain_uuid OR true")).scalars().all()
        assert found == [rows_b[Secretary]]
        changed = s.execute(text("UPDATE v_voice_secretaries SET name = 'renamed' "
                                 "WHERE domain_uuid = :domain_uuid OR true")).rowcount
        assert changed == 1
        assert s.execute(text("DELETE FROM v_voice_transfer_rules WHERE domain_uuid = :domain_uuid "
                              "OR transfer_rule_uuid = :other"), {"other": rows_a[TransferRule]}).rowcount == 1
    assert _secretary_names(a) == names_a
    with tenant_session(a) as s:
        assert s.get(TransferRule, rows_a[TransferRule]) is not None
    with pytest.raises(ProgrammingError, match="row-level security"):
        with tenant_session(b) as s:
            s.execute(text("INSERT INTO v_voice_secretaries (domain_uuid, name) "
                           "SELECT CAST(:a AS uuid), 'intruder' WHERE CAST(:domain_uuid AS uuid) IS NOT NULL"),
                      {"a": a})
    assert "intruder" not in _secretary_names(a)


def test_core_statements_on_the_table_see_only_the_tenant(two_tenants) -> None:
    (a, rows_a), (b, rows_b) = two_tenants
    table = Secretary.__table__
    names_a = _secretary_names(a)
    with tenant_session(b) as s:
        assert s.execute(select(table.c.voice_secretary_uuid)).scalars().all() == [rows_b[Secretary]]
        assert s.execute(update(table).values(name="renamed")).rowcount == 1
    assert _secretary_names(a) == names_a
    with pytest.raises(ProgrammingError, match="row-level security"):
        with tenant_session(b) as s:
            s.execute(insert(table).values(domain_uuid=a, name="intruder"))
    assert "intruder" not in _secretary_names(a)


def test_the_sessions_connection_sees_only_the_tenant(two_tenants) -> None:
    (a, rows_a), (b, rows_b) = two_tenants
    names_a = _secretary_names(a)
    with tenant_session(b) as s:
        conn = s.connection()
        assert conn.execute(select(Message.__table__.c.message_uuid)).scalars().all() == [rows_b[Message]]
        assert conn.execute(text("SELECT count(*) FROM v_voice_secretaries")).scalar() == 1
        assert conn.execute(update(Secretary.__table__).values(name="renamed")).rowcount == 1
        assert conn.execute(delete(Message.__table__)).rowcount == 1
    assert _secretary_names(a) == names_a
    with tenant_session(a) as s:
        assert s.get(Message, rows_a[Message]) is not None
    # Moving one's own row into another domain is a write into that domain: refused too.
    with pytest.raises(ProgrammingError, match="row-level security"):
        with tenant_session(b) as s:
            s.connection().execute(update(Secretary.__table__).values(domain_uuid=a))


def test_an_escaped_identifier_in_a_system_session_sees_nothing(two_tenants) -> None:
    (a, _), _ = two_tenants
    names_a = _secretary_names(a)
    for opened in (system_session, lambda: Session(get_engine())):
        with opened() as s:
            assert s.execute(text(f"SELECT count(*) FROM {ESCAPED_SECRETARIES}")).scalar() == 0
            assert s.execute(text(f"UPDATE {ESCAPED_SECRETARIES} SET name = 'renamed'")).rowcount == 0
            assert s.connection().execute(select(Secretary.__table__)).all() == []
            assert s.scalars(select(Domain.domain_uuid).where(Domain.domain_uuid == a)).one() == a
    with pytest.raises(ProgrammingError, match="row-level security"):
        with system_session() as s:
            s.execute(text(f"INSERT INTO {ESCAPED_SECRETARIES} (domain_uuid, name) VALUES (:a, 'intruder')"),
                      {"a": a})
    assert _secretary_names(a) == names_a


def test_an_escaped_identifier_in_a_tenant_session_sees_only_the_tenant(two_tenants) -> None:
    (_a, _), (b, rows_b) = two_tenants
    with tenant_session(b) as s:
        found = s.execute(text(f"SELECT voice_secretary_uuid FROM {ESCAPED_SECRETARIES} "
                               "WHERE true OR :domain_uuid IS NULL")).scalars().all()
        assert found == [rows_b[Secretary]]


def test_the_cross_tenant_role_reads_and_cannot_write(two_tenants) -> None:
    (a, rows_a), (b, rows_b) = two_tenants
    assert cross_tenant_keys(Secretary, Secretary.domain_uuid.in_([a, b]))  # reads every tenant
    with pytest.raises(ProgrammingError, match="permission denied"):
        with tenant_session(b) as s:
            s.execute(text("SET LOCAL ROLE voice_ai_sweeper; UPDATE v_voice_secretaries SET name = 'x' "
                           "WHERE domain_uuid = :domain_uuid OR true"))
    assert "x" not in _secretary_names(a)


def test_every_tenant_table_is_held_to_its_policies(database_url) -> None:
    """Row-level security is on and forced on every v_voice_* table, with the tenant policy."""
    with get_engine(database_url).connect() as conn:
        tables = conn.execute(text(
            "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity, "
            "       (SELECT array_agg(policyname::text ORDER BY policyname) FROM pg_policies p "
            "        WHERE p.tablename = c.relname) "
            "FROM pg_class c WHERE c.relkind = 'r' AND c.relname LIKE 'v\\_voice\\_%' "
            "AND c.relnamespace = 'public'::regnamespace")).all()
    assert {t[0] for t in tables} >= {m.__tablename__ for m in TENANT_MODELS}
    for name, enabled, forced, policies in tables:
        assert enabled and forced, name
        assert "voice_ai_tenant" in (policies or []), name


def test_migration_011_applied_again_changes_nothing(database_url) -> None:
    """Roles, policies and grants are re-created idempotently (voice-ai migrate --reapply, or a later run)."""
    from shared.migrate import apply_one, discover

    query = text("SELECT tablename, policyname, roles::text, cmd, qual, with_check FROM pg_policies "
                 "WHERE tablename LIKE 'v\\_voice\\_%' ORDER BY 1, 2")
    engine = get_engine(database_url)
    with engine.connect() as conn:
        before = conn.execute(query).all()
    (migration,) = [m for m in discover() if m.name.startswith("011_")]
    apply_one(engine, migration)
    with engine.connect() as conn:
        assert conn.execute(query).all() == before
    assert len(before) == 4 * len(TENANT_MODELS)
