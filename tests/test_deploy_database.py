"""An operator's install on a fresh database: the role and database the installer makes
(``deploy/database.sh``, the ``make demo`` path, not ``--dev``'s superuser) run the product.

``make test``'s own role is a superuser, so a privilege the operator's role lacks went unseen once: on
PostgreSQL 15+ the NOINHERIT role could not create its tables in ``public`` and ``make demo`` stopped at
the first migration. Here the installer's function makes a NOINHERIT login role and its database, the
migrations run as that role, a tenant's secretary is stored and read back, and all of it runs a second
time, as a re-run of the installer does.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from shared.db import dispose_engines, sqlalchemy_url
from shared.migrate import migrate
from shared.models import Domain, Secretary
from shared.tenancy import system_session, tenant_session
from tests.conftest import RUN_DATABASE_PREFIX, TEST_DATABASE_URL

DATABASE_SCRIPT = Path(__file__).resolve().parents[1] / "deploy" / "database.sh"


def _provision(database: str, role: str, password: str) -> None:
    """``provision_database`` as deploy/setup.sh calls it without ``--dev``, psql as the tests' superuser."""
    admin = make_url(TEST_DATABASE_URL)
    script = (f'. "{DATABASE_SCRIPT}"\n'
              'say() { echo "$*"; }\n'
              'psql_su() { psql -X -q -v ON_ERROR_STOP=1 -h "$ADMIN_HOST" -p "$ADMIN_PORT" -U "$ADMIN_USER" "$@"; }\n'
              'provision_database "$DB" "$ROLE" "$PW" "LOGIN NOINHERIT" 0\n')
    env = {**os.environ, "ADMIN_HOST": admin.host or "127.0.0.1", "ADMIN_PORT": str(admin.port or 5432),
           "ADMIN_USER": admin.username or "postgres", "PGPASSWORD": admin.password or "",
           "DB": database, "ROLE": role, "PW": password}
    done = subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def _drop(database: str, role: str) -> None:
    dispose_engines()
    admin = create_engine(sqlalchemy_url(TEST_DATABASE_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :d"), {"d": database})
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{database}"')
        conn.exec_driver_sql(f'DROP ROLE IF EXISTS "{role}"')
    admin.dispose()


def test_the_installers_role_and_database_run_the_product_and_a_second_install_changes_nothing(
        database_url: str) -> None:
    database = f"{RUN_DATABASE_PREFIX}_scratch_{uuid.uuid4().hex[:10]}"  # dropped with the run if left
    role = f"voice_ai_op_{secrets.token_hex(4)}"
    password = secrets.token_hex(16)
    url = make_url(TEST_DATABASE_URL).set(database=database, username=role, password=password)
    operator_url = url.render_as_string(hide_password=False)
    try:
        for _install in range(2):
            _provision(database, role, password)
            migrate(operator_url)

        with create_engine(sqlalchemy_url(operator_url)).connect() as conn:
            attributes = conn.execute(text("SELECT rolsuper, rolinherit FROM pg_roles WHERE rolname = current_user")).one()
        assert tuple(attributes) == (False, False)  # the operator's role, not the tests' superuser

        domain = uuid.uuid4()
        with system_session(operator_url) as session:
            session.add(Domain(domain_uuid=domain, domain_name="clinic.example"))
        with tenant_session(domain, operator_url) as session:
            session.add(Secretary(name="Recepção", language="pt-BR"))
        with tenant_session(domain, operator_url) as session:
            assert [s.name for s in session.query(Secretary)] == ["Recepção"]
        with tenant_session(uuid.uuid4(), operator_url) as session:
            assert session.query(Secretary).count() == 0  # another tenant sees none of it
    finally:
        _drop(database, role)
