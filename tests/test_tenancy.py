"""Tenant isolation: domain B's data access never returns, changes or deletes domain A's rows."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
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
