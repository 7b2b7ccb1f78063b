"""What a call's set-up says about the secretary's knowledge (edge/call/setup.py): a secretary that answers
from documents loads the offline embedding model while its greeting plays only when it has documents to
search — its own or the domain's, in a searchable state; another secretary's or a failed one do not count."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest

from edge.call.setup import read_call_setup
from tests.factories import add_document, add_secretary


@pytest.fixture
def domain(make_domain: Callable[..., uuid.UUID]) -> uuid.UUID:
    return make_domain()


def test_a_secretary_without_documents_has_nothing_to_search(domain: uuid.UUID) -> None:
    secretary = add_secretary(domain, rag_enabled=True)
    other = add_secretary(domain, name="Outra", rag_enabled=True)
    add_document(domain, status="ready", voice_secretary_uuid=other)
    add_document(domain, file_name="broken.pdf", status="failed")
    assert read_call_setup(domain, str(secretary)).searchable is False
    assert read_call_setup(domain, str(other)).searchable is True


@pytest.mark.parametrize("status", ["pending", "processing", "ready"])
def test_a_domain_wide_document_is_searched_by_every_secretary(domain: uuid.UUID, status: str) -> None:
    secretary = add_secretary(domain, rag_enabled=True)
    add_document(domain, status=status)
    assert read_call_setup(domain, str(secretary)).searchable is True


def test_a_secretary_that_does_not_answer_from_documents_searches_nothing(domain: uuid.UUID) -> None:
    secretary = add_secretary(domain, rag_enabled=False)
    add_document(domain, status="ready", voice_secretary_uuid=secretary)
    assert read_call_setup(domain, str(secretary)).searchable is False
