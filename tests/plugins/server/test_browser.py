"""The dashboard in a real browser: Debian's chromium, headless, driven by Playwright.

The server runs under uvicorn on loopback; screenshots of the main pages are taken
(written to ``docs/screenshots/`` for the documentation when ``TOCSIN_SCREENSHOTS=1``, else
to a temporary folder, so that a test run leaves the working tree as it found it).
"""

from __future__ import annotations

import io
import os
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest
import uvicorn

from tocsin.model import Role
from tocsin.plugins.server.app import create_app
from tocsin.plugins.server.demo import seed_alert
from tocsin.runtime import Runtime

from .conftest import PASSWORD, add_user

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = (
    Path(__file__).resolve().parents[3] / "docs" / "screenshots"
    if os.environ.get("TOCSIN_SCREENSHOTS") == "1"
    else Path(tempfile.gettempdir()) / "tocsin-screenshots"
)
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]

pytestmark = pytest.mark.skipif(shutil.which(CHROMIUM) is None,
                                reason="Debian's chromium is not installed (apt-get install chromium)")


class LiveServer:
    """The application under uvicorn on 127.0.0.1, in a thread of the test process."""

    def __init__(self, runtime: Runtime) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        config = uvicorn.Config(create_app(runtime), log_level="warning", lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]},
                                       daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=20)
        self.sock.close()


@pytest.fixture
def live(runtime: Runtime) -> Iterator[LiveServer]:
    with LiveServer(runtime) as server:
        yield server


@pytest.fixture
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        # Playwright gives each launch a fresh temporary profile (its own --user-data-dir)
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield browser
        browser.close()


def until(check: object, what: str, timeout: float = 30) -> None:
    """Poll ``check()`` from Python (the pages' CSP forbids Playwright's eval-based waits)."""
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def shot(page: object, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)  # type: ignore[attr-defined]


def sign_in(page: object, base: str, username: str) -> None:
    page.goto(f"{base}/")  # type: ignore[attr-defined]
    assert "/login" in page.url  # type: ignore[attr-defined]
    page.fill("input[name=username]", username)  # type: ignore[attr-defined]
    page.fill("input[name=password]", PASSWORD)  # type: ignore[attr-defined]
    page.click("button[type=submit]")  # type: ignore[attr-defined]


def test_an_operator_reads_an_alerts_statistics_and_downloads_the_excel_file(
    runtime: Runtime, live: LiveServer, browser: object, tmp_path: Path
) -> None:
    add_user(runtime, "operatrice", Role.OPERATOR)
    seeded = seed_alert(runtime.store, contacts=120, now=runtime.clock.now(), group="Quartier nord")
    context = browser.new_context(locale="fr-FR", accept_downloads=True,  # type: ignore[attr-defined]
                                  viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{live.url}/login")
    assert page.inner_text("h1") == "Connexion"
    shot(page, "login")
    sign_in(page, live.url, "operatrice")
    page.wait_for_selector("table.data")
    assert "Communications" in page.inner_text("h1")
    assert seeded.alert.title in page.inner_text("table.data")
    shot(page, "communications")

    page.click(f"text={seeded.alert.title}")
    page.wait_for_selector("#pie")
    # the SVG pie drew (live.js may reload it as counts arrive: wait for a drawn one)
    until(lambda: page.locator("#pie").evaluate("p => p.complete && p.naturalWidth > 0"),
          "the pie to be drawn")
    shown = {k: int(page.inner_text(f".cards [data-count={k}]"))
             for k in ("contacted", "in_progress", "not_contacted")}
    assert sum(shown.values()) == 120
    assert page.locator("table.citizens tbody tr").count() == runtime.config.section(
        "server").get("page_size", 50)
    assert "contacté" in page.inner_text("table.citizens")
    shot(page, "alert-statistics")

    with page.expect_download() as info:
        page.click("text=statisticsAlert.xlsx")
    download = info.value
    assert download.suggested_filename == "statisticsAlert.xlsx"
    saved = tmp_path / "statisticsAlert.xlsx"
    download.save_as(saved)
    rows = list(openpyxl.load_workbook(io.BytesIO(saved.read_bytes())).worksheets[0]
                .iter_rows(values_only=True))
    assert len(rows) == 121

    page.click("nav >> text=Journal des communications")
    page.select_option("select[name=period]", "last-30-days")
    page.click("#period-picker button[type=submit]")
    page.wait_for_selector("table.data tbody tr")
    assert "period=last-30-days" in page.url
    assert page.locator("table.data tbody tr").count() == 50
    shot(page, "communications-log")
    with page.expect_download() as info:
        page.click("text=Exporter vers Excel")
    assert info.value.suggested_filename.startswith("CommunicationsLog-")
    log_file = tmp_path / info.value.suggested_filename
    info.value.save_as(log_file)
    log_rows = list(openpyxl.load_workbook(log_file).worksheets[0].iter_rows(values_only=True))
    assert len(log_rows) == 1 + 120 * 3  # every attempt of the period, not just the page

    page.click("nav >> text=Contacts")
    page.wait_for_selector("ul.means")
    assert "vérifié" in page.inner_text("table.data")
    shot(page, "contacts")

    page.click("nav >> text=Canaux")
    page.wait_for_selector("h1")
    shot(page, "channels")
    context.close()


def test_an_administrator_manages_users_in_english(
    runtime: Runtime, live: LiveServer, browser: object
) -> None:
    add_user(runtime, "chef", Role.ADMINISTRATOR)
    context = browser.new_context(locale="en-GB",  # type: ignore[attr-defined]
                                  viewport={"width": 1280, "height": 800})
    page = context.new_page()
    sign_in(page, live.url, "chef")
    page.click("nav >> text=Users")
    page.fill("form.filters input[name=username]", "agent.dupont")
    page.fill("form.filters input[name=password]", "a long password")
    page.select_option("form.filters select[name=role]", "agent")
    page.click("form.filters button")
    page.wait_for_selector("text=agent.dupont")
    shot(page, "users")
    user, _ = runtime.store.users.by_username("agent.dupont")
    assert user.role == Role.AGENT
    context.close()


def test_the_dashboard_speaks_english_to_an_english_browser(
    runtime: Runtime, live: LiveServer, browser: object
) -> None:
    add_user(runtime, "agent", Role.AGENT)
    context = browser.new_context(locale="en-GB")  # type: ignore[attr-defined]
    page = context.new_page()
    sign_in(page, live.url, "agent")
    page.wait_for_selector("h1")
    assert page.inner_text("h1") == "Communications"
    nav = page.inner_text("nav")
    assert "Contacts" in nav and "Channels" not in nav  # an agent sees what an agent may do
    context.close()


@pytest.mark.parametrize("sending", [2.0], indirect=True)  # an SMS takes 5 s to be delivered
def test_an_operator_sends_an_alert_watches_the_counts_move_recontacts_and_exports(
    sending: tuple[Runtime, LiveServer, object], browser: object, tmp_path: Path
) -> None:
    runtime, live, _ = sending
    add_user(runtime, "operatrice", Role.OPERATOR)
    context = browser.new_context(locale="fr-FR", accept_downloads=True,  # type: ignore[attr-defined]
                                  viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text)
            if "Content Security Policy" in m.text else None)
    sign_in(page, live.url, "operatrice")
    page.click("text=Nouvelle alerte")
    page.fill("input[name=title]", "Alerte crue")
    page.check("input[name=use_sms]")
    page.fill("textarea[name=sms_text]", "Crue : évacuez, {{ first_name }}.")
    page.select_option("select[name=groups]", ["Centre"])
    page.fill("input[name=reminders]", "0.05, 0.1")
    shot(page, "new-alert")
    page.click("button.primary")
    page.wait_for_selector("#pie")
    assert "Alerte crue" in page.inner_text("h1")
    first = int(page.inner_text("[data-count=contacted]"))
    assert first < 2  # the provider has not delivered yet
    # the page is not reloaded: server-sent events move the counts
    until(lambda: page.inner_text("[data-count=contacted]") == "2", "two contacted")
    until(lambda: page.inner_text("[data-count=not_contacted]") == "2", "two not contacted")
    # once the reminders are done the page shows the recontact, which asks for confirmation
    page.wait_for_selector("form.recontact", timeout=30_000)
    shot(page, "alert-sending")
    page.check("form.recontact input[name=confirm]")
    page.click("form.recontact button")
    page.wait_for_selector(".notice")
    assert "Relance lancée" in page.inner_text(".notice")
    with page.expect_download() as info:
        page.click("text=statisticsAlert.xlsx")
    saved = tmp_path / "statisticsAlert.xlsx"
    info.value.save_as(saved)
    rows = list(openpyxl.load_workbook(saved).worksheets[0].iter_rows(values_only=True))
    assert len(rows) == 1 + 4
    names = sorted(str(r[0]) for r in rows[1:])
    assert names == ["Anne", "Jean", "Luc", "Zoé"]
    assert violations == []  # every script ran under the strict content security policy
    context.close()


def test_an_operator_imports_a_file_and_sees_every_bad_cell_then_a_good_import(
    runtime: Runtime, live: LiveServer, browser: object, tmp_path: Path
) -> None:
    add_user(runtime, "operatrice", Role.OPERATOR)
    runtime.store.groups.create("Nord")
    bad = tmp_path / "habitants.csv"
    bad.write_text("prénom;nom;portable\nAnne;Dupont;06 11 22 33 44\nLuc;Morel;pas un numéro\n")
    good = tmp_path / "habitants-corrige.csv"
    good.write_text("prénom;nom;portable\nAnne;Dupont;06 11 22 33 44\nLuc;Morel;06 55 66 77 88\n")
    context = browser.new_context(locale="fr-FR",  # type: ignore[attr-defined]
                                  viewport={"width": 1280, "height": 800})
    page = context.new_page()
    sign_in(page, live.url, "operatrice")
    page.click("nav >> text=Contacts")
    page.click("text=Importer des contacts")
    page.set_input_files("input[type=file]", str(bad))
    page.click("button.primary")
    page.wait_for_selector("table.errors", timeout=30_000)  # the page reloads when it ends
    assert "portable" in page.inner_text("table.errors")
    assert page.inner_text("table.errors tbody td") == "3"  # the row as a spreadsheet shows it
    shot(page, "import-refused")
    assert runtime.store.contacts.count() == 0
    page.goto(f"{live.url}/contacts/import")
    page.set_input_files("input[type=file]", str(good))
    page.select_option("select[name=group]", "Nord")
    page.click("button.primary")
    page.wait_for_selector("dl.result", timeout=30_000)
    assert runtime.store.groups.list()[0][1] == 2
    context.close()
