"""schemathesis against the OpenAPI schema: over a thousand generated requests, from an
administrator's session, on the real database and Redis; none may get a server error."""

from __future__ import annotations

from typing import Any, cast

import pytest
import redis
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from service.accounts import service as accounts
from service.accounts.middleware import SESSION_COOKIE
from service.accounts.models import Role
from service.db import unit_of_work
from service.documents.models import Collection
from service.main import create_app
from service.review.models import AnnotationType
from service.translation.models import GlossaryEntry, RunKind, RunPurpose, TranslationRun
from tests.support.helpers import annotate, authed_client, make_document, segment_ids

EXAMPLES_PER_OPERATION = 30
MINIMUM_CASES = 1000


@pytest.fixture
def seeded(session: Session, redis_client: redis.Redis) -> None:
    """Rows with ids 1–3 for requests to hit: documents, segments, annotations, runs, a
    collection with a glossary."""
    archive = Collection(name="Stadtarchiv")
    session.add(archive)
    session.commit()
    for n in range(3):
        document = make_document(
            session,
            [f"Le conseil {n}.", f"Le pont {n}.", f"La rue {n}."],
            [f"The council {n}.", f"The bridge {n}.", None],
            pages=2,
        )
        document.collection_id = archive.id
        session.add(
            GlossaryEntry(collection_id=archive.id, term=f"conseil{n}", translation="council")
        )
        session.add(
            TranslationRun(
                document_id=document.id, kind=RunKind.TRANSLATE, purpose=RunPurpose.COMPARE
            )
        )
        session.commit()
        annotate(session, segment_ids(session, document.id)[0], 0, 2, AnnotationType.NOTE, "n")


def login() -> dict[str, Any]:
    """Headers and cookies of an administrator's browser session (CSRF: our own origin)."""
    with unit_of_work() as session:
        user = accounts.create_user(session, "fuzzer", "correct horse battery", Role.ADMIN)
        token = accounts.start_session(session, user)
    return {"headers": {"origin": "http://testserver"}, "cookies": {SESSION_COOKIE: token}}


def test_no_generated_request_gets_a_server_error(seeded: None) -> None:
    app = create_app()
    document = authed_client("viewer").get("/api/openapi.json").json()
    schema = schemathesis.openapi.from_dict(document)
    schema.app = app
    auth = login()
    cases = 0
    errors: list[str] = []
    operations = [cast(Any, result).ok() for result in schema.get_all_operations()]
    operations.sort(key=lambda op: op.method.upper() == "DELETE")  # deleting the seeds last
    assert len(operations) > 40

    for operation in operations:

        @given(case=operation.as_strategy(), existing=st.booleans())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def run(case: Any, existing: bool) -> None:
            nonlocal cases
            cases += 1
            if existing:  # half the requests name rows that exist, so they go past the lookup
                case.path_parameters = {
                    k: v % 3 + 1 if isinstance(v, int) else v
                    for k, v in (case.path_parameters or {}).items()
                }
            response = case.call(**auth)
            if response.status_code >= 500:
                errors.append(
                    f"{response.status_code} {case.method} {case.formatted_path}: "
                    f"{response.text[:300]}\n  {case.as_curl_command()}"
                )

        run()

    assert cases >= MINIMUM_CASES, cases
    assert errors == [], "\n".join(errors[:20])
