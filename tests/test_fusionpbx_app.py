"""The FusionPBX app (``fusionpbx-app/voice_secretary``): PHP lint, the PHPUnit suite, a real Celery worker
consuming the message the app pushes into Redis, and the pages in headless Chromium.

PHP, PHPUnit and Chromium are Debian packages that ``deploy/setup.sh --dev`` installs. Where one is
missing these tests skip, except in CI (``CI`` set) and under ``make test``, which runs the installer
first: there a missing tool means a broken install step, and the tests fail rather than pass having
tested nothing. The pages are served by ``php -S`` from a FusionPBX-shaped web root built around the
stand-in of ``tests/fusionpbx/``.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy.engine import make_url

from shared.db import get_engine
from shared.settings import get_settings
from shared.tasks import INGEST_DOCUMENT, celery_config
from tests.factories import add_conversation, add_document, add_message, add_provider, add_rule, add_secretary
from tests.polling import wait_until

if TYPE_CHECKING:  # selenium is imported by the browser fixture only (the browser tests skip without it)
    from selenium.webdriver.remote.webdriver import WebDriver

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "fusionpbx-app" / "voice_secretary"
STAND_IN = ROOT / "tests" / "fusionpbx"
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
# app_menu.php: the Applications menu entry of each page
MENU = {
    "secretaries": "420cd340-4827-4999-bc23-c982b40e916b", "providers": "e2ba1fc6-465a-43e0-9209-c30b07050f72",
    "documents": "84ce8f48-fd19-44d1-aac2-779bd881f9c7", "transfer_rules": "beefe23f-0a03-41a7-8ebd-18d0d6808b78",
    "conversations": "30113f73-a239-435a-8dab-bb6ac86ae7eb", "domain_settings": "af49ef90-3c6f-49a4-8a97-6ec2243e25bb",
}



def _must_run() -> bool:
    """True in CI and under ``make test`` (GNU make exports ``MAKELEVEL`` to its commands)."""
    return os.environ.get("CI", "").strip().lower() not in {"", "0", "false", "no"} or "MAKELEVEL" in os.environ


def require(available: bool, what: str) -> None:
    """Skip the test when ``what`` is missing, or fail it where the installer must have provided it."""
    if available:
        return
    reason = f"{what} is not installed (deploy/setup.sh --dev installs it)"
    if _must_run():
        pytest.fail(f"{reason}; in CI and under `make test` this test may not be skipped", pytrace=False)
    pytest.skip(reason)


def test_a_missing_tool_skips_only_outside_ci_and_make_test(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("MAKELEVEL", raising=False)
    require(True, "php-cli")
    with pytest.raises(pytest.skip.Exception):
        require(False, "php-cli")
    for name, value in (("CI", "true"), ("CI", "1"), ("MAKELEVEL", "1")):
        monkeypatch.setenv(name, value)
        with pytest.raises(pytest.fail.Exception, match="may not be skipped"):
            require(False, "php-cli")
        monkeypatch.delenv(name)
    monkeypatch.setenv("CI", "false")
    with pytest.raises(pytest.skip.Exception):
        require(False, "php-cli")


@pytest.fixture
def php() -> str:
    """The php command line interpreter."""
    path = shutil.which("php")
    require(path is not None, "php-cli")
    return str(path)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _php_env(database_url: str, redis_url: str) -> dict[str, str]:
    return {**os.environ, "TEST_DATABASE_URL": database_url, "TEST_REDIS_URL": redis_url}


def test_every_php_file_passes_php_lint(php: str) -> None:
    files = sorted([*APP.rglob("*.php"), *STAND_IN.rglob("*.php")])
    assert len(files) > 20
    failures = []
    for path in files:
        result = subprocess.run([php, "-l", str(path)], capture_output=True, text=True, check=False)
        if result.returncode != 0:
            failures.append(result.stdout + result.stderr)
    assert not failures, "\n".join(failures)


def test_phpunit_suite_passes(php: str, database_url: str, spare_redis_url: str) -> None:
    """The PHPUnit suite of tests/fusionpbx (its README lists what each test class covers). Its Redis is
    the spare database: a worker of this process's other tests would take the uploads it queues."""
    phpunit = shutil.which("phpunit")
    require(phpunit is not None, "phpunit")
    result = subprocess.run(
        [str(phpunit), "-c", str(STAND_IN / "phpunit.xml")], cwd=ROOT, env=_php_env(database_url, spare_redis_url),
        capture_output=True, text=True, timeout=240, check=False,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert "OK (" in result.stdout


@pytest.fixture
def fusionpbx_user(database_url: str) -> Iterator[tuple[str, Callable[[bool], None]]]:
    """A non-superuser login role standing for FusionPBX's database user on a hardened install: it may
    use FusionPBX's tables (v_domains, v_dialplans, the destinations' tables) and is a member of voice_ai_admin as
    deploy/fusionpbx-app.md says. Yields its database URL and a switch for that membership."""
    url = make_url(database_url)
    role = f"voice_ai_fpbx_{url.database}"[:63]
    password = uuid.uuid4().hex
    engine = get_engine(database_url)
    with engine.begin() as conn:
        conn.exec_driver_sql((STAND_IN / "stand_in_dialplans.sql").read_text())
        conn.exec_driver_sql(f'DROP OWNED BY "{role}"' if conn.exec_driver_sql(
            f"SELECT 1 FROM pg_roles WHERE rolname = '{role}'").first() else "SELECT 1")
        conn.exec_driver_sql(f"DROP ROLE IF EXISTS \"{role}\"")
        conn.exec_driver_sql(f"CREATE ROLE \"{role}\" LOGIN NOSUPERUSER INHERIT PASSWORD '{password}'")
        fusionpbx_tables = ("v_domains, v_dialplans, v_dialplan_details, v_database_transactions, "
                            "v_extensions, v_ring_groups, v_call_center_queues, v_voicemails, v_ivr_menus")
        conn.exec_driver_sql(f'GRANT SELECT, INSERT, UPDATE, DELETE ON {fusionpbx_tables} TO "{role}"')

    def member(yes: bool) -> None:
        with engine.begin() as conn:
            conn.exec_driver_sql(f'{"GRANT" if yes else "REVOKE"} voice_ai_admin {"TO" if yes else "FROM"} "{role}"')

    member(True)
    try:
        yield url.set(username=role, password=password).render_as_string(hide_password=False), member
    finally:
        with engine.begin() as conn:
            conn.exec_driver_sql(f'DROP OWNED BY "{role}"')
            conn.exec_driver_sql(f'DROP ROLE "{role}"')


def test_the_app_works_as_a_non_superuser_fusionpbx_user(php: str, fusionpbx_user, database_url: str,
                                                         spare_redis_url: str, make_domain) -> None:
    """Row-level security (migration 011) lets FusionPBX's user, as a member of voice_ai_admin, do what the
    app's permissions allow — Show All across domains included — and nothing without that membership."""
    phpunit = shutil.which("phpunit")
    require(phpunit is not None, "phpunit")
    user_url, member = fusionpbx_user
    result = subprocess.run(
        [str(phpunit), "-c", str(STAND_IN / "phpunit.xml"), "--filter", "ShowAllTest|TenantIsolationTest|TransferTargetTest"],
        cwd=ROOT, env=_php_env(user_url, spare_redis_url), capture_output=True, text=True, timeout=240, check=False,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert "OK (" in result.stdout

    domain = make_domain()
    add_secretary(domain)
    user_engine = get_engine(user_url)
    count = f"SELECT count(*) FROM v_voice_secretaries WHERE domain_uuid = '{domain}'"
    with user_engine.connect() as conn:
        assert conn.exec_driver_sql(count).scalar() == 1
    # Table privileges alone, without the membership: row-level security shows no row at all.
    with get_engine(database_url).begin() as conn:
        conn.exec_driver_sql(f'GRANT SELECT ON v_voice_secretaries TO "{make_url(user_url).username}"')
    member(False)
    user_engine.dispose()
    with user_engine.connect() as conn:
        assert conn.exec_driver_sql(count).scalar() == 0
    user_engine.dispose()


def test_a_celery_worker_consumes_the_task_the_app_pushes(php: str, spare_redis_url: str) -> None:
    """The app's hand-built message is accepted by Celery itself: a worker runs the task with its args.

    The worker here is a plain Celery worker with a stand-in task of the same name, so that this checks
    the message format alone; the project's worker ingests a real upload in the last browser test.
    """
    from celery import Celery
    from celery.contrib.testing.worker import start_worker

    # A Redis database of its own: a project worker another test left running on the suite's database
    # would take the message first.
    private_redis = spare_redis_url
    app = Celery("fusionpbx_app_contract", set_as_current=False)
    app.conf.update(celery_config(get_settings().replace(redis_url=private_redis)))
    app.conf.result_backend = None
    # Celery adds every app's tasks to apps finalized later ("shared" tasks): when this process has
    # imported the project's workers, their real ingest task would answer to this name. Finalize, drop
    # it, and register the stand-in instead.
    app.finalize()
    app.tasks.pop(INGEST_DOCUMENT, None)
    received: list[tuple[str, str, str]] = []
    done = threading.Event()

    @app.task(name=INGEST_DOCUMENT, bind=True, shared=False)
    def ingest(self, domain_uuid: str, document_uuid: str) -> None:
        received.append((self.request.id, domain_uuid, document_uuid))
        done.set()

    app.connection_for_write().default_channel.client.delete("documents")
    domain, document = str(uuid.uuid4()), str(uuid.uuid4())
    with start_worker(app, pool="solo", perform_ping_check=False, queues=["documents"], shutdown_timeout=10):
        pushed = subprocess.run(
            [php, str(STAND_IN / "enqueue_ingest.php"), private_redis, domain, document],
            capture_output=True, text=True, timeout=30, check=True,
        )
        assert pushed.stdout.strip() == "queued"
        client = app.connection_for_write().default_channel.client
        assert done.wait(60), f"the worker never ran the task ({client.llen('documents')} message(s) still queued)"
    task_id, got_domain, got_document = received[0]
    assert (got_domain, got_document) == (domain, document)
    uuid.UUID(task_id)


# ------------------------------------------------------------------------------------------ browser


@pytest.fixture
def app_server(php: str, database_url: str, redis_url: str, tmp_path: Path) -> Iterator[dict[str, str]]:
    """The app and the FusionPBX stand-in served by ``php -S`` on a free port."""
    with get_engine(database_url).begin() as conn:
        conn.exec_driver_sql((STAND_IN / "stand_in_dialplans.sql").read_text())
    url = make_url(database_url)
    uploads = tmp_path / "uploads"
    uploads.mkdir()
    config = {
        "dsn": f"pgsql:host={url.host};port={url.port or 5432};dbname={url.database}",
        "db_username": url.username, "db_password": url.password,
        "settings": {
            # the user's Domain > Paging setting: 2 rows a page, so that three rows need paging
            "domain": {"paging": "2"},
            "voice_secretary": {
                "edge_host": "127.0.0.1", "edge_port": "8022", "redis_url": redis_url,
                "upload_dir": str(uploads), "upload_max_bytes": "1048576",
            },
        },
    }
    docroot = tmp_path / "docroot"
    subprocess.run([php, str(STAND_IN / "build_docroot.php"), str(docroot), json.dumps(config)], check=True)
    port = _free_port()
    log = (tmp_path / "php.log").open("w")
    server = subprocess.Popen(
        [php, "-d", "display_errors=1", "-d", "error_reporting=-1", "-S", f"127.0.0.1:{port}", "-t", str(docroot)],
        stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        def listening() -> bool:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
                return True
            except OSError:
                return False
        wait_until(listening, timeout=5)
        yield {"base": f"http://127.0.0.1:{port}", "uploads": str(uploads), "log": str(tmp_path / "php.log")}
    finally:
        server.terminate()
        server.wait(timeout=10)
        log.close()


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[WebDriver]:
    """Headless Chromium driven by Selenium through Debian's chromedriver."""
    require(importlib.util.find_spec("selenium") is not None, "selenium (the dev extra)")
    require(Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists(), "chromium / chromium-driver")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-dev-shm-usage",
                 f"--user-data-dir={tmp_path / 'chromium'}", "--window-size=1280,1000"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


def _shot(driver: WebDriver, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(ARTIFACTS / f"fusionpbx_{name}.png"))


def _login(driver: WebDriver, base: str, domain: uuid.UUID, domain_name: str) -> None:
    driver.get(f"{base}/login.php?domain_uuid={domain}&domain_name={domain_name}&group=admin")


def _click(driver: WebDriver, element_id: str, by: str = "id") -> None:
    """Click a button or link that loads a page, and wait until the new page has replaced the old."""
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    old_page = driver.find_element(By.TAG_NAME, "html")
    driver.find_element(by, element_id).click()

    def replaced(_driver: WebDriver) -> bool:
        # Gone with the old document: Selenium says "stale element", or chromedriver, while the new page
        # is being built, "Node with given id does not belong to the document".
        try:
            old_page.is_enabled()
        except WebDriverException:
            return True
        return False

    WebDriverWait(driver, 20).until(replaced)


def _fill(driver: WebDriver, fields: dict[str, str]) -> None:
    from selenium.webdriver.common.by import By

    for name, value in fields.items():
        element = driver.find_element(By.NAME, name)
        element.clear()
        element.send_keys(value)


def _create_secretary_and_upload(driver: WebDriver, base: str, tmp_path: Path) -> None:
    """Steps shared by the browser tests: add a secretary with an extension, upload a document to it."""
    from selenium.webdriver.common.by import By

    _click(driver, "btn_add")
    _fill(driver, {
        "name": "Recepção", "extension": "8000",
        "greeting_message": "Olá! Você ligou para a Padaria Central. Em que posso ajudar?",
        "system_prompt": "Você é a recepcionista da Padaria Central. Responda com base nos documentos.",
    })
    _click(driver, "btn_save")
    assert "Add Completed" in driver.page_source
    _shot(driver, "02_secretary_saved")

    _click(driver, "btn_documents")
    _click(driver, "btn_upload")
    faq = tmp_path / "horarios.txt"
    faq.write_text(
        "A Padaria Central abre de segunda a sábado, das 7h às 20h.\n"
        "Aos domingos abrimos das 8h às 12h. Fazemos entregas no bairro pelo telefone.\n",
        encoding="utf-8",
    )
    driver.find_element(By.ID, "document").send_keys(str(faq))
    _shot(driver, "03_upload_form")
    _click(driver, "btn_save")
    assert "horarios.txt" in driver.page_source


def test_browser_operator_creates_a_secretary_uploads_and_reads_a_conversation(
    app_server: dict[str, str], browser: WebDriver, make_domain: Callable[..., uuid.UUID], tmp_path: Path,
) -> None:
    from selenium.webdriver.common.by import By

    driver = browser
    domain_name = f"{uuid.uuid4().hex[:8]}.test"
    domain = make_domain(domain_name)
    _login(driver, app_server["base"], domain, domain_name)
    assert "Voice Secretaries" in driver.title
    _shot(driver, "01_secretaries_empty")

    _create_secretary_and_upload(driver, app_server["base"], tmp_path)
    status = driver.find_element(By.CSS_SELECTOR, "#documents .document_status").text
    assert status in {"Pending", "Processing", "Ready"}
    _shot(driver, "04_document_uploaded")
    stored = list(Path(app_server["uploads"], str(domain)).iterdir())
    assert len(stored) == 1 and stored[0].suffix == ".txt" and stored[0].name != "horarios.txt"

    # A call the secretary handled (as the workers would have stored it).
    secretary = add_secretary(domain, name="Atendimento")
    conversation = add_conversation(
        domain, voice_secretary_uuid=secretary, caller_name="Maria", outcome="message", turn_count=2,
        summary="Maria pediu uma encomenda de bolo para sábado; deixou recado.", webhook_status="delivered",
        taken_message={"caller_name": "Maria", "message": "Bolo de chocolate para sábado", "callback_number": "11988887777"},
    )
    add_message(domain, conversation, 0, role="assistant", content="Olá! Em que posso ajudar?", latency_ms=420)
    add_message(domain, conversation, 1, role="user", content="Vocês abrem no domingo?")
    add_message(domain, conversation, 2, role="tool", tool_name="search_knowledge_base",
                tool_arguments={"query": "domingo"}, tool_result={"passages": ["Aos domingos abrimos das 8h às 12h."]})
    add_message(domain, conversation, 3, role="assistant", content="Aos domingos abrimos das 8h às 12h.", latency_ms=610)

    _click(driver, f"menu_{MENU['conversations']}")
    _fill(driver, {"search": "Maria"})
    _click(driver, "btn_search")
    _shot(driver, "05_conversations")
    _click(driver, "#conversations tr.list-row a", by=By.CSS_SELECTOR)
    page = driver.page_source
    assert "Vocês abrem no domingo?" in page
    assert "search_knowledge_base" in page and "domingo" in page
    assert "encomenda de bolo" in driver.find_element(By.ID, "conversation_summary").text
    assert driver.find_element(By.ID, "webhook_status").text == "Delivered"
    _shot(driver, "06_conversation_detail")

    # The same pages in Portuguese (the session language picks app_languages.php's pt-br strings).
    driver.get(f"{app_server['base']}/login.php?domain_uuid={domain}&domain_name={domain_name}&group=admin&language=pt-br")
    assert "Secretárias Virtuais" in driver.page_source and "Recepção" in driver.page_source
    _shot(driver, "07_secretaries_pt_br")
    assert "Warning" not in Path(app_server["log"]).read_text()


def _names(driver: WebDriver, table: str, names: list[str]) -> list[str]:
    """Which of ``names`` the list shows, in the order it shows them."""
    from selenium.webdriver.common.by import By

    rows = [row.text for row in driver.find_elements(By.CSS_SELECTOR, f"#{table} tr.list-row")]
    return [next(name for name in names if name in row) for row in rows if any(name in row for name in names)]


def _confirm(driver: WebDriver, action: str) -> None:
    """Press the action bar's button, which opens FusionPBX's confirmation modal, then Continue."""
    from selenium.webdriver.common.by import By

    button = driver.find_element(By.ID, f"btn_{action}")
    assert button.is_displayed(), f"{action} shows once a row is checked"
    button.click()
    assert driver.find_element(By.ID, f"modal-{action}").is_displayed()
    _click(driver, f"btn_{action}_continue")


def test_browser_list_pages_sort_search_page_toggle_copy_and_delete(
    app_server: dict[str, str], browser: WebDriver, make_domain: Callable[..., uuid.UUID],
) -> None:
    """Each list page, reached from the Applications menu, as an operator uses a FusionPBX list: heading
    clicks sort, the search box filters, Next pages (2 rows a page here), the Copy/Toggle/Delete buttons
    appear once a row is checked and act after the confirmation modal, a row click opens its edit page."""
    from selenium.webdriver.common.by import By

    driver = browser
    domain_name = f"{uuid.uuid4().hex[:8]}.test"
    domain = make_domain(domain_name)
    names = ["Alpha desk", "Bravo desk", "Charlie line"]
    for i, name in enumerate(names):
        add_secretary(domain, name=name)
        add_rule(domain, department=name, extension=f"200{i}")
        add_provider(domain, provider_type=["llm", "stt", "tts"][i], name="openai", display_name=name)
        add_document(domain, file_name=f"{name}.txt")
        add_conversation(domain, caller_name=name, summary=f"call {i}", started_at=datetime(2026, 1, 1 + i, tzinfo=UTC))
    _login(driver, app_server["base"], domain, domain_name)
    pages = {  # page: (table id, sort column heading text, row names, actions)
        "secretaries": ("secretaries", "Name", names, ["copy", "toggle", "delete"]),
        "transfer_rules": ("transfer_rules", "Department", names, ["copy", "toggle", "delete"]),
        "providers": ("providers", "Display name", names, ["toggle", "delete"]),
        "documents": ("documents", "File name", [f"{n}.txt" for n in names], ["delete"]),
        "conversations": ("conversations", "Started", names, []),
    }
    for page, (table, heading, rows, actions) in pages.items():
        _click(driver, f"menu_{MENU[page]}")
        # sorting: a heading click sorts by it, the next click the other way (the first click on the
        # column the list is already sorted by gives descending, as in FusionPBX); 2 rows a page
        _click(driver, heading, by=By.LINK_TEXT)
        first = _names(driver, table, rows)
        _click(driver, heading, by=By.LINK_TEXT)
        second = _names(driver, table, rows)
        assert sorted([first, second]) == sorted([rows[:2], [rows[2], rows[1]]]), page
        # paging keeps the order
        _click(driver, "btn_page_next")
        assert _names(driver, table, rows) == ([rows[2]] if second == rows[:2] else [rows[0]]), page
        # search
        _fill(driver, {"search": rows[1][:5]})
        _click(driver, "btn_search")
        assert _names(driver, table, rows) == [rows[1]], page
        _shot(driver, f"10_{page}_search")
        _click(driver, f"menu_{MENU[page]}")
        if not actions:
            assert not driver.find_elements(By.ID, "checkbox_all")
            continue
        # select-all shows the action buttons; unticking hides them
        assert not driver.find_element(By.ID, "btn_delete").is_displayed()
        driver.find_element(By.ID, "checkbox_all").click()
        assert driver.find_element(By.ID, "btn_delete").is_displayed()
        driver.find_element(By.ID, "checkbox_all").click()
        assert not driver.find_element(By.ID, "btn_delete").is_displayed()
        if "toggle" in actions:
            driver.find_element(By.ID, "checkbox_0").click()
            _confirm(driver, "toggle")
            assert "Toggle Completed" in driver.page_source
            assert driver.find_element(By.ID, "btn_toggle_0").text == "False", page
        if "copy" in actions:
            driver.find_element(By.ID, "checkbox_0").click()
            _confirm(driver, "copy")
            assert "Copy Completed" in driver.page_source and f"{rows[0]} (Copy)" in driver.page_source
        driver.find_element(By.ID, "checkbox_1").click()
        _confirm(driver, "delete")
        assert "Delete Completed" in driver.page_source, page
        _shot(driver, f"11_{page}_after_actions")
        # a click on a row (not on its link) opens the edit page
        _click(driver, f"#{table} tr.list-row td:nth-child(4)", by=By.CSS_SELECTOR)
        assert "_edit.php?id=" in driver.current_url, page
    assert "Warning" not in Path(app_server["log"]).read_text()


@pytest.mark.slow
def test_browser_upload_becomes_ready_with_the_real_worker(
    app_server: dict[str, str], browser: WebDriver, make_domain: Callable[..., uuid.UUID],
    database_url: str, redis_url: str, tmp_path: Path,
) -> None:
    """End to end: a document uploaded from the page is ingested by the project's worker and shows `Ready`."""
    from selenium.webdriver.common.by import By

    env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_url}
    worker = subprocess.Popen(
        [sys.executable, "-m", "voice_ai.cli", "worker", "-Q", "documents", "-P", "solo", "-c", "1"],
        cwd=ROOT, env=env, stdout=(tmp_path / "worker.log").open("w"), stderr=subprocess.STDOUT,
    )
    try:
        driver = browser
        domain_name = f"{uuid.uuid4().hex[:8]}.test"
        domain = make_domain(domain_name)
        _login(driver, app_server["base"], domain, domain_name)
        _create_secretary_and_upload(driver, app_server["base"], tmp_path)
        status = ""

        def settled() -> bool:
            nonlocal status
            driver.get(f"{app_server['base']}/app/voice_secretary/voice_documents.php")
            status = driver.find_element(By.CSS_SELECTOR, "#documents .document_status").text
            return status.startswith(("Ready", "Failed")) or worker.poll() is not None
        wait_until(settled, timeout=90, step=1.0)
        _shot(driver, "08_document_ready")
        log = (tmp_path / "worker.log").read_text()
        assert status == "Ready", f"document status {status!r}; worker log:\n{log[-3000:]}"
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
