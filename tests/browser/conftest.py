"""Real headless Chromium (Debian's) driving the app served by uvicorn, with a real worker."""

from __future__ import annotations

import itertools
import os
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.conftest import DATA_DIR
from tests.fakes.ollama_server import FakeOllama, wait_until
from tests.support.workerproc import worker, worker_ollama

ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str:
    """Debian's chromium (Playwright's own browser download does not work offline)."""
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    raise RuntimeError("chromium is not installed: apt-get install chromium")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def live_server(worker: subprocess.Popen[bytes], worker_ollama: FakeOllama) -> Iterator[str]:
    """`palimpsest serve` on a free port, talking to the same database, Redis and Ollama."""
    import httpx

    port = free_port()
    env = os.environ | {"OLLAMA_HOST": worker_ollama.host}
    log = (DATA_DIR / "web.log").open("wb")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "service.main:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            return httpx.get(f"{url}/health", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    if not wait_until(up, timeout=30):
        process.kill()
        pytest.fail("web server did not start:\n" + (DATA_DIR / "web.log").read_text()[-3000:])
    yield url
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=20)
    log.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS)
        yield instance
        instance.close()


@dataclass
class PageLog:
    """Every URL a page requested and every script error it raised."""

    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@pytest.fixture
def page_log() -> PageLog:
    return PageLog()


@pytest.fixture
def page(browser: Browser, live_server: str, page_log: PageLog) -> Iterator[Page]:
    """A fresh page that records every request it makes, to prove nothing leaves the origin."""
    ARTIFACTS.mkdir(exist_ok=True)
    context = browser.new_context(viewport={"width": 1440, "height": 900}, accept_downloads=True)
    page = context.new_page()
    page.on("request", lambda r: page_log.requests.append(r.url))
    page.on("pageerror", lambda e: page_log.errors.append(str(e)))
    log_in(page, live_server)
    yield page
    context.close()
    allowed = (live_server, "data:", "blob:", "about:")
    foreign = [u for u in page_log.requests if not u.startswith(allowed)]
    assert foreign == [], f"requests left the origin: {foreign}"
    assert page_log.errors == [], f"script errors: {page_log.errors}"


def log_in(page: Page, live_server: str, role: str = "editor") -> None:
    """Create an account and log in through the login page, as a historian would."""
    from service.accounts import service as accounts
    from service.accounts.models import Role
    from service.db import unit_of_work

    name = f"reviewer-{next(_accounts)}"
    with unit_of_work() as session:
        accounts.create_user(session, name, "correct horse battery", Role(role), "Clio Reviewer")
    page.goto(f"{live_server}/")
    page.fill("#username", name)
    page.fill("#password", "correct horse battery")
    page.click("form.login button[type=submit]")
    page.wait_for_url(f"{live_server}/")


_accounts = itertools.count(1)


def screenshot(page: Page, name: str) -> Path:
    """Save a screenshot under tests/artifacts/."""
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    return path


__all__ = ["browser", "live_server", "page", "worker", "worker_ollama"]
