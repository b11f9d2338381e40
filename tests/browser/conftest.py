"""Browser test set-up: Debian's Chromium driven by Playwright, and the real dashboard server.

The tests skip when ``/usr/bin/chromium`` or the playwright package is missing (``make test`` installs
Chromium where it can), unless ``PMTWIN_REQUIRE_BROWSER=1``: then they fail, so CI cannot pass silently
without them. Screenshots and the server's log go to ``PMTWIN_TEST_ARTIFACTS`` when set, else to
``tests/browser/artifacts`` under pytest's temporary base folder; the path is printed at the end.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
MAX_UPLOAD_BYTES = 2**20
SERVER_START_TIMEOUT_S = 60.0
ARTIFACTS_KEY = pytest.StashKey[Path]()

# Three valid jobs of a small SWF trace (fits Perlmutter's cpu partition).
TINY_SWF = (
    "; MaxNodes: 100\n"
    "; MaxProcs: 12800\n"
    "1 0 0 3600 128 -1 -1 128 7200 -1 1 1 1 -1 1 -1 -1 -1\n"
    "2 60 0 600 256 -1 -1 256 1200 -1 1 2 1 -1 1 -1 -1 -1\n"
    "3 120 0 1800 64 -1 -1 64 3600 -1 1 3 1 -1 1 -1 -1 -1\n"
)

SERVER_CODE = (
    "import sys, uvicorn\n"
    "from pathlib import Path\n"
    "from pmtwin.serve.app import create_app\n"
    "app = create_app(Path(sys.argv[1]), traces_dir=Path(sys.argv[2]), max_runs=2,\n"
    "                 max_upload_bytes=int(sys.argv[3]))\n"
    "uvicorn.run(app, host='127.0.0.1', port=int(sys.argv[4]), log_level='warning')\n"
)


def _browser_missing() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    if not CHROMIUM.exists():
        return f"{CHROMIUM} not found (`make test` installs it with apt-get when run as root)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install -e '.[test]')"
    return None


@pytest.fixture(scope="session", autouse=True)
def _require_browser() -> None:
    """Skips the folder without a browser, or fails it when ``PMTWIN_REQUIRE_BROWSER=1``."""
    why = _browser_missing()
    if why is None:
        return
    if os.environ.get("PMTWIN_REQUIRE_BROWSER") == "1":
        pytest.fail(f"browser tests required (PMTWIN_REQUIRE_BROWSER=1) but {why}")
    pytest.skip(why)


@pytest.fixture(scope="session")
def artifacts(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where screenshots and the server log go (reported in the terminal summary)."""
    named = os.environ.get("PMTWIN_TEST_ARTIFACTS")
    path = Path(named) if named else tmp_path_factory.getbasetemp() / "tests" / "browser" / "artifacts"
    path.mkdir(parents=True, exist_ok=True)
    request.config.stash[ARTIFACTS_KEY] = path
    return path


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    """Says where the browser test artifacts are, when any test wrote them."""
    path = config.stash.get(ARTIFACTS_KEY, None)
    if path is not None:
        terminalreporter.write_line(f"browser test artifacts (screenshots, server log): {path}")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_until_up(base_url: str, proc: subprocess.Popen[bytes], log_path: Path) -> None:
    """Polls ``/api/options`` until it answers; fails with the server's log if it exits or stays down."""
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"the server exited with {proc.returncode}:\n{log_path.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{base_url}/api/options", timeout=2) as resp:
                if resp.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.1)
    log_tail = log_path.read_text()[-3000:]
    pytest.fail(f"the server did not answer within {SERVER_START_TIMEOUT_S:.0f} s:\n{log_tail}")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, artifacts: Path) -> Iterator[str]:
    """The real server (``create_app`` under uvicorn) on a free port; yields its base URL."""
    root = tmp_path_factory.mktemp("serve")
    traces = root / "traces"
    traces.mkdir()
    (traces / "tiny.swf").write_text(TINY_SWF)
    port = _free_port()
    log_path = artifacts / "server.log"
    args = [str(root / "store"), str(traces), str(MAX_UPLOAD_BYTES), str(port)]
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-c", SERVER_CODE, *args],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base_url, proc, log_path)
        yield base_url
    finally:
        _stop(proc)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Ends the server and the run processes it started (its own process group)."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One headless Chromium per test module (Playwright's event loop ends with it, before other
    folders' tests run)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@dataclass
class Console:
    """What a page reported: console errors and uncaught exceptions, across all pages of a context."""

    errors: list[str] = field(default_factory=list)
    exceptions: list[str] = field(default_factory=list)

    def add(self, kind: str, text: str, url: str) -> None:
        """Keeps a console message if it is an error; Chromium's own favicon request does not count."""
        if kind == "error" and not url.endswith("/favicon.ico"):
            self.errors.append(f"{text} ({url})")

    def unexpected(self, allowed_statuses: tuple[int, ...] = ()) -> list[str]:
        """Errors other than Chromium's note on an HTTP answer with one of ``allowed_statuses``."""
        allowed = tuple(f"the server responded with a status of {code}" for code in allowed_statuses)
        return self.exceptions + [e for e in self.errors if not any(a in e for a in allowed)]


@pytest.fixture
def console() -> Console:
    return Console()


@pytest.fixture
def context(
    browser: Browser, console: Console, request: pytest.FixtureRequest, artifacts: Path
) -> Iterator[BrowserContext]:
    """A fresh 1280x800 browser context that records console errors of all its pages.

    At the end, every page still open is saved as ``<test>-final-<n>.png``.
    """
    ctx = browser.new_context(viewport={"width": 1280, "height": 800})
    ctx.set_default_timeout(30_000)

    def watch(page: Page) -> None:
        page.on("console", lambda msg: console.add(msg.type, msg.text, msg.location.get("url", "")))
        page.on("pageerror", lambda exc: console.exceptions.append(str(exc)))

    ctx.on("page", watch)
    yield ctx
    for index, page in enumerate(ctx.pages):
        page.screenshot(path=str(artifacts / f"{request.node.name}-final-{index}.png"), full_page=True)
    ctx.close()


@pytest.fixture
def page(context: BrowserContext, server: str) -> Page:
    """The dashboard, loaded from the server, with the form's choices filled in."""
    dashboard = context.new_page()
    dashboard.goto(f"{server}/")
    dashboard.wait_for_selector("body[data-ready='true']", state="attached")
    return dashboard
