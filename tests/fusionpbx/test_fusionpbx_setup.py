"""``deploy/setup.sh --fusionpbx``'s FusionPBX part (``deploy/fusionpbx.sh``) on a FusionPBX-shaped host
under a temporary root: ``etc/fusionpbx/config.conf`` naming a database that holds FusionPBX's own tables
(domains, dialplans, groups, permissions, a customised menu) and a web root with FusionPBX's
``resources/`` and ``core/upgrade/upgrade.php`` (the stand-in of ``tests/fusionpbx``). Run twice: the
second run changes nothing."""

from __future__ import annotations

import grp
import json
import os
import pwd
import shutil
import stat
import subprocess
import tempfile
import uuid
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from shared.db import get_engine
from shared.migrate import migrate

ROOT = Path(__file__).resolve().parents[2]
STAND_IN = ROOT / "tests" / "fusionpbx"
APPLICATIONS = "fd29e39c-c936-f5fc-8e2b-611681b266b5"   # FusionPBX's Applications menu entry
MENU_UUIDS = {
    "420cd340-4827-4999-bc23-c982b40e916b", "e2ba1fc6-465a-43e0-9209-c30b07050f72", "84ce8f48-fd19-44d1-aac2-779bd881f9c7",
    "beefe23f-0a03-41a7-8ebd-18d0d6808b78", "30113f73-a239-435a-8dab-bb6ac86ae7eb", "af49ef90-3c6f-49a4-8a97-6ec2243e25bb",
}

FUSIONPBX_TABLES = """
CREATE TABLE v_domains (domain_uuid UUID PRIMARY KEY, domain_parent_uuid UUID, domain_name TEXT,
    domain_enabled BOOLEAN, domain_description TEXT);
"""


@pytest.fixture
def fusionpbx_host(scratch_database: str, tmp_path: Path) -> dict[str, object]:
    """A FusionPBX host: its database (FusionPBX's tables, a customised menu), config.conf and web root."""
    php = shutil.which("php")
    if php is None or shutil.which("psql") is None:
        pytest.skip("php-cli and psql are needed (deploy/setup.sh --dev installs them)")
    engine = get_engine(scratch_database)
    menu_uuid, applications_item, custom_item = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    with engine.begin() as conn:
        conn.exec_driver_sql(FUSIONPBX_TABLES)
        conn.exec_driver_sql((STAND_IN / "stand_in_dialplans.sql").read_text())
        conn.exec_driver_sql("INSERT INTO v_groups VALUES (gen_random_uuid(), NULL, 'superadmin'), (gen_random_uuid(), NULL, 'admin')")
        conn.exec_driver_sql(f"INSERT INTO v_menus VALUES ('{menu_uuid}', 'default', 'en-us', '')")
        # the operator renamed Applications and added an entry of their own
        conn.exec_driver_sql(f"INSERT INTO v_menu_items (menu_item_uuid, menu_uuid, uuid, menu_item_title, menu_item_link) VALUES "
                             f"('{applications_item}', '{menu_uuid}', '{APPLICATIONS}', 'Apps (ours)', ''), "
                             f"('{custom_item}', '{menu_uuid}', gen_random_uuid(), 'Wallboard', '/custom/wallboard.php')")
    migrate(scratch_database)   # deploy/setup.sh runs `voice-ai migrate` before the FusionPBX part

    url = make_url(scratch_database)
    web_root = tmp_path / "var" / "www" / "fusionpbx"
    config = {"dsn": f"pgsql:host={url.host};port={url.port or 5432};dbname={url.database}",
              "db_username": url.username, "db_password": url.password, "settings": {}}
    subprocess.run([php, str(STAND_IN / "build_docroot.php"), str(web_root), json.dumps(config)], check=True)
    shutil.rmtree(web_root / "app" / "voice_secretary")   # FusionPBX without the app
    conf = tmp_path / "etc" / "fusionpbx" / "config.conf"
    conf.parent.mkdir(parents=True)
    conf.write_text(
        "\n#database system settings\ndatabase.0.type = pgsql\n"
        f"database.0.host = {url.host}\ndatabase.0.port = {url.port or 5432}\ndatabase.0.sslmode = prefer\n"
        f"database.0.name = {url.database}\ndatabase.0.username = {url.username}\ndatabase.0.password = {url.password}\n"
        f"\n#general settings\ndocument.root = {web_root}\nproject.path =\ntemp.dir = /tmp\n"
    )
    return {"engine": engine, "web_root": web_root, "conf": conf, "uploads": tmp_path / "var" / "lib" / "voice-ai" / "uploads",
            "applications_item": applications_item, "custom_item": custom_item, "menu_uuid": menu_uuid}


def _run(host: dict[str, object], *script: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FUSIONPBX_CONFIG": str(host["conf"]), "VOICE_AI_UPLOAD_DIR": str(host["uploads"])}
    return subprocess.run(["bash", "-c", *script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180, check=False)


def _state(host: dict[str, object]) -> dict[str, object]:
    with host["engine"].connect() as conn:  # type: ignore[attr-defined]  # the fixture's mixed dict: this is its Engine
        def rows(sql: str) -> list[tuple]:
            return [tuple(r) for r in conn.exec_driver_sql(sql).all()]
        return {
            "indexes": rows("SELECT tablename, indexname, indexdef FROM pg_indexes WHERE left(tablename, 8) = 'v_voice_' ORDER BY 2"),
            "permissions": rows("SELECT permission_name, group_name FROM v_group_permissions ORDER BY 1, 2"),
            "menu": rows("SELECT menu_item_uuid::text, uuid::text, menu_item_parent_uuid::text, menu_item_title FROM v_menu_items ORDER BY 2"),
            "menu_groups": rows("SELECT menu_item_uuid::text, group_name FROM v_menu_item_groups ORDER BY 1, 2"),
        }


def test_the_fusionpbx_mode_installs_the_app_and_a_second_run_changes_nothing(fusionpbx_host: dict[str, object]) -> None:
    host = fusionpbx_host
    web_root = Path(str(host["web_root"]))
    # setup.sh's early part: config.conf and the PostgreSQL version the server runs (not a fixed 15)
    early = _run(host, 'source deploy/fusionpbx.sh && fusionpbx_read_config && echo "$FPBX_DB_NAME $FPBX_WEB_ROOT" && fusionpbx_pg_version')
    assert early.returncode == 0, early.stderr
    with host["engine"].connect() as conn:  # type: ignore[attr-defined]  # the fixture's mixed dict: this is its Engine
        major = int(conn.exec_driver_sql("SHOW server_version_num").scalar()) // 10000
        database = conn.exec_driver_sql("SELECT current_database()").scalar()
    assert early.stdout.split("\n")[-2:] == [f"{database} {web_root}", f"{major}"] or early.stdout.strip().endswith(f"{database} {web_root}\n{major}")

    first = _run(host, "bash deploy/fusionpbx.sh finish")
    assert first.returncode == 0, first.stdout + first.stderr
    after_first = _state(host)

    # the app, with the shared policy tables as real files (resources/policies is a link in the repository)
    app = web_root / "app" / "voice_secretary"
    assert (app / "voice_secretaries.php").read_bytes() == (ROOT / "fusionpbx-app/voice_secretary/voice_secretaries.php").read_bytes()
    assert (app / "resources" / "policies").is_dir() and not (app / "resources" / "policies").is_symlink()
    assert (app / "resources/policies/transfer_destination.json").read_text() == (ROOT / "shared/policies/transfer_destination.json").read_text()
    assert stat.S_IMODE(Path(str(host["uploads"])).stat().st_mode) == 0o2750

    # FusionPBX's upgrade: schema, app defaults, group permissions; never Menu Defaults
    assert (web_root / "upgrade.log").read_text().split("\n")[:3] == ["--schema", "--defaults", "--permissions"]
    assert "--menu" not in (web_root / "upgrade.log").read_text()
    assert ("voice_secretary_view", "admin") in after_first["permissions"]
    assert ("voice_secretary_all", "superadmin") in after_first["permissions"]
    # its index step found the migrations' domain_uuid indexes under its own names: 17 *_fkey, no duplicate
    fkeys = [name for _, name, _ in after_first["indexes"] if name.endswith("_fkey")]
    assert len(fkeys) == 17
    single_column = [(table, definition.split("USING btree ")[1]) for table, _, definition in after_first["indexes"]
                     if "USING btree (" in definition and "," not in definition.split("USING btree ")[1] and "WHERE" not in definition]
    assert len(single_column) == len(set(single_column)), "two indexes on the same column"

    # the menu: our six entries under Applications, with their groups; the operator's items untouched
    menu = {item_uuid: (uuid_, parent, title) for item_uuid, uuid_, parent, title in after_first["menu"]}
    ours = {v[0] for v in menu.values()} & MENU_UUIDS
    assert ours == MENU_UUIDS
    assert all(parent == str(host["applications_item"]) for uuid_, parent, _ in menu.values() if uuid_ in MENU_UUIDS)
    assert menu[str(host["applications_item"])][2] == "Apps (ours)" and str(host["custom_item"]) in menu
    assert len([g for g in after_first["menu_groups"] if g[1] == "admin"]) == 6

    assert "upload_dir       = " + str(host["uploads"]) in first.stdout
    assert "edge_host" in first.stdout and "Advanced > Default Settings" in first.stdout

    second = _run(host, "bash deploy/fusionpbx.sh finish")
    assert second.returncode == 0, second.stdout + second.stderr
    assert "app already installed" in second.stdout
    assert _state(host) == after_first, "a second run changed the database"


def test_a_host_without_fusionpbx_is_refused(tmp_path: Path) -> None:
    result = subprocess.run(["bash", "deploy/fusionpbx.sh", "finish"], cwd=ROOT, capture_output=True, text=True, check=False,
                            env={**os.environ, "FUSIONPBX_CONFIG": str(tmp_path / "missing.conf")})
    assert result.returncode != 0
    assert "is this a FusionPBX host?" in result.stderr


def test_setup_sh_reads_fusionpbx_first_and_installs_the_app_last(tmp_path: Path) -> None:
    """deploy/setup.sh --fusionpbx: FusionPBX is found (and the PostgreSQL version asked) before any package
    is chosen, the app goes in after the migrations and the services; without FusionPBX it stops before
    installing anything."""
    setup = (ROOT / "deploy" / "setup.sh").read_text()
    order = ['source "$ROOT/deploy/fusionpbx.sh"', "fusionpbx_read_config", 'PG_VERSION="$(fusionpbx_pg_version)"', "PACKAGES=(",
             "provision_database \"$DB_NAME\"", '"$VENV/bin/voice-ai" migrate', "deploy/install-services.sh\"\nfi", "fusionpbx_finish"]
    positions = [setup.index(marker) for marker in order]
    assert positions == sorted(positions)
    missing = subprocess.run(["bash", "deploy/setup.sh", "--fusionpbx"], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
                             env={**os.environ, "FUSIONPBX_CONFIG": str(tmp_path / "none.conf")})
    assert missing.returncode == 1 and "is this a FusionPBX host?" in missing.stderr
    assert "apt-get" not in missing.stdout + missing.stderr
    both = subprocess.run(["bash", "deploy/setup.sh", "--fusionpbx", "--dev"], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)
    assert both.returncode == 2


def test_as_root_a_linked_web_root_gets_the_web_servers_owner_everywhere(fusionpbx_host: dict[str, object]) -> None:
    """The root-only steps, on a host whose web root is a link (to a checkout elsewhere): the app, the
    upload directory and FusionPBX's upgrade all belong to / run as the owner of the directory the link
    names (www-data), not the link's owner (root). Runs only as root where a www-data user exists."""
    if os.geteuid() != 0:
        pytest.skip("the ownership steps run as root only")
    try:
        web_server = pwd.getpwnam("www-data")
    except KeyError:
        pytest.skip("no www-data user")
    host = fusionpbx_host
    link = Path(str(host["web_root"]))
    real = Path(tempfile.mkdtemp(prefix="fusionpbx-webroot-"))   # outside pytest's 0700 directories: www-data reaches it
    try:
        os.chmod(real, 0o755)
        shutil.move(str(link), str(real / "fusionpbx"))
        link.symlink_to(real / "fusionpbx")
        subprocess.run(["chown", "-R", "www-data:www-data", str(real / "fusionpbx")], check=True)
        first = _run(host, "bash deploy/fusionpbx.sh finish")
        assert first.returncode == 0, first.stdout + first.stderr
        app = real / "fusionpbx" / "app" / "voice_secretary"
        assert {p.stat().st_uid for p in [app, *app.rglob("*")]} == {web_server.pw_uid}
        uploads = Path(str(host["uploads"])).stat()
        assert (uploads.st_uid, grp.getgrgid(uploads.st_gid).gr_name, stat.S_IMODE(uploads.st_mode)) == (web_server.pw_uid, "voice-ai", 0o2750)
        assert (real / "fusionpbx" / "upgrade.log").stat().st_uid == web_server.pw_uid, "FusionPBX's upgrade ran as the web server"
        after_first = _state(host)
        second = _run(host, "bash deploy/fusionpbx.sh finish")
        assert second.returncode == 0, second.stdout + second.stderr
        assert _state(host) == after_first
    finally:
        shutil.rmtree(real, ignore_errors=True)
