"""End-to-end tests of the live dashboard in headless Chromium against the real server.

Each test drives the page as a user would (the "New run" form, the runs table, the live panel) and checks
what the page shows against what the server's API answers.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tests.browser.conftest import TINY_SWF, Console

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Locator, Page

RUN_DONE_TIMEOUT_MS = 60_000

# An SWF trace whose third line has a run time that is not a number.
BROKEN_SWF = (
    "; MaxProcs: 12800\n"
    "1 0 0 3600 128 -1 -1 128 7200 -1 1 1 1 -1 1 -1 -1 -1\n"
    "2 60 0 abc 256 -1 -1 256 1200 -1 1 2 1 -1 1 -1 -1 -1\n"
)

# Records every value the live progress bar shows, from before the run starts.
RECORD_PROGRESS_JS = """() => {
  window.progressSeen = [];
  const bar = document.getElementById("live-progress");
  new MutationObserver(() => window.progressSeen.push(Number(bar.getAttribute("aria-valuenow"))))
    .observe(bar, {attributes: true, attributeFilter: ["aria-valuenow"]});
}"""

# True once a chart holds exactly the expected number of points per pool (trace name).
DRAWN_POINTS_JS = """([chart, expected]) => {
  const data = document.getElementById(chart).data || [];
  const drawn = Object.fromEntries(data.map((t) => [t.name, t.x.length]));
  return JSON.stringify(Object.entries(drawn).sort()) === JSON.stringify(Object.entries(expected).sort());
}"""


def expect(target: Locator | Page) -> Any:
    """Playwright's ``expect``, imported late: without playwright the conftest skips the folder."""
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(target)


def start_generated_run(page: Page, *, days: float, seed: int, label: str, load_factor: float = 1.0) -> str:
    """Fills the form for a generated run, presses "Start run" and answers the new run's id."""
    page.select_option("#workload-kind", "generated")
    page.fill("#days", str(days))
    page.fill("#seed", str(seed))
    page.fill("#load-factor", str(load_factor))
    page.fill("#label", label)
    run = press_start(page)
    assert run["label"] == label
    run_id: str = run["id"]
    return run_id


def press_start(page: Page) -> Any:
    """Presses "Start run"; answers the server's RunInfo of the new (queued) run."""
    with page.expect_response(lambda r: r.url.endswith("/api/runs") and r.request.method == "POST") as answer:
        page.click("#start-btn")
    assert answer.value.status == 202, answer.value.text()
    return answer.value.json()


def choose_upload(page: Page, name: str, text: str) -> None:
    """Puts a file named ``name`` holding ``text`` into the upload field."""
    page.set_input_files(
        "#upload-file", files=[{"name": name, "mimeType": "text/plain", "buffer": text.encode()}]
    )


def run_row(page: Page, run_id: str) -> Locator:
    return page.locator(f'#runs-table tbody tr[data-run-id="{run_id}"]')


def api_get(page: Page, url: str) -> Any:
    answer = page.request.get(url)
    assert answer.ok, f"{url}: {answer.status} {answer.text()}"
    return answer.json()


def test_generated_run_live_then_report(
    page: Page, context: BrowserContext, server: str, console: Console, artifacts: Path
) -> None:
    page.evaluate(RECORD_PROGRESS_JS)
    run_id = start_generated_run(page, days=1, seed=0, label="one day")
    expect(page.locator("#live-run-id")).to_have_text(run_id)
    row = run_row(page, run_id)
    expect(row.locator(".col-label")).to_have_text("one day")
    expect(page.locator("#live-state")).to_have_text("done", timeout=RUN_DONE_TIMEOUT_MS)
    page.screenshot(path=str(artifacts / "run-done.png"))

    # The bar moved forward through the run's progress events to 100%, whenever the page connected.
    expect(page.locator("#live-progress")).to_have_text("100%")
    seen: list[int] = page.evaluate("window.progressSeen")
    assert seen == sorted(seen) and seen[-1] == 100
    assert len({v for v in seen if 0 < v < 100}) >= 10, seen

    # Both charts hold every live point of every pool, as the server recorded them.
    points = api_get(page, f"{server}/api/runs/{run_id}/live")["points"]
    expected = {pool: sum(pool in p["levels"] for p in points) for p in points for pool in p["levels"]}
    assert expected and min(expected.values()) >= 10
    for chart in ("live-chart", "queue-chart"):
        page.wait_for_function(DRAWN_POINTS_JS, arg=[chart, expected])

    # Key figures and links match the run's record.
    info = api_get(page, f"{server}/api/runs/{run_id}")
    assert info["state"] == "done"
    figures = page.locator("#live-figures")
    expect(figures).to_contain_text(f"{info['figures']['jobs']:,}")
    expect(figures).to_contain_text(f"{100 * info['figures']['utilization']:.1f}%")
    expect(row.locator(".col-state")).to_have_text("done")
    expect(row.locator("a.link-report")).to_have_attribute("href", info["links"]["report"])
    expect(row.locator("button.cancel")).to_be_hidden()

    with context.expect_page() as opened:
        page.click("#live-report-link")
    report = opened.value
    report.wait_for_load_state()
    assert report.url == f"{server}{info['links']['report']}"
    expect(report.locator(".plot").first).to_be_attached()
    expect(report.locator(".plot:not(.js-plotly-plot)")).to_have_count(0)
    assert report.locator(".plot.js-plotly-plot").count() >= 3
    report.screenshot(path=str(artifacts / "report.png"), full_page=True)

    # A page opened after the run ended, following it from the table, replays the same progress. (With no
    # other run active: a new page follows a running run by itself, and would record its progress too.)
    assert {run["state"] for run in api_get(page, f"{server}/api/runs")} <= {"done", "failed", "cancelled"}
    late = context.new_page()
    late.goto(f"{server}/")
    late.wait_for_selector("body[data-ready='true']", state="attached")
    late.evaluate(RECORD_PROGRESS_JS)
    run_row(late, run_id).locator(".col-id").click()
    expect(late.locator("#live-state")).to_have_text("done")
    expect(late.locator("#live-progress")).to_have_text("100%")
    replayed: list[int] = late.evaluate("window.progressSeen")
    assert replayed == sorted(replayed) and replayed[-1] == 100
    assert {v for v in replayed if 0 < v < 100} == {v for v in seen if 0 < v < 100}
    assert console.unexpected() == []


def test_upload_error_then_good_upload(page: Page, server: str, console: Console, artifacts: Path) -> None:
    page.select_option("#workload-kind", "upload")
    choose_upload(page, "broken.swf", BROKEN_SWF)
    page.click("#upload-btn")
    error = page.locator("#upload-error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("broken.swf")
    expect(error).to_contain_text(re.compile(r"broken\.swf(:| line )3\b"))
    expect(error).to_contain_text("abc")
    page.screenshot(path=str(artifacts / "upload-error.png"))
    assert page.request.get(f"{server}/api/options").ok

    choose_upload(page, "good.swf", TINY_SWF)
    with page.expect_response(lambda r: "/api/uploads" in r.url) as answer:
        page.click("#upload-btn")
    assert answer.value.status == 201, answer.value.text()
    trace = answer.value.json()
    assert (trace["name"], trace["jobs"]) == ("good.swf", 3)
    expect(error).to_be_hidden()
    expect(page.locator("#upload-status")).to_have_text("Uploaded good.swf: 3 jobs")
    expect(page.locator("#workload-kind")).to_have_value("trace")
    expect(page.locator("#trace")).to_have_value(trace["id"])
    expect(page.locator("#trace option:checked")).to_have_text("good.swf (upload, 3 jobs)")

    # The uploaded trace runs.
    page.fill("#label", "uploaded")
    run_id = press_start(page)["id"]
    expect(run_row(page, run_id).locator(".col-state")).to_have_text("done", timeout=RUN_DONE_TIMEOUT_MS)
    expect(page.locator("#live-figures")).to_contain_text("3")
    assert api_get(page, f"{server}/api/runs/{run_id}")["figures"]["jobs"] == 3
    assert console.unexpected(allowed_statuses=(400,)) == []


def test_run_error_shows_the_field(page: Page, console: Console) -> None:
    page.select_option("#workload-kind", "generated")
    page.fill("#days", "-1")
    page.click("#start-btn")
    error = page.locator("#run-error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("workload.generated.days")
    expect(error).to_contain_text("greater than 0")
    assert console.unexpected(allowed_statuses=(422,)) == []


def test_cancel_a_long_run(page: Page, server: str, console: Console, artifacts: Path) -> None:
    run_id = start_generated_run(page, days=30, seed=3, label="long", load_factor=4)
    row = run_row(page, run_id)
    expect(row.locator(".col-state")).to_have_text("running", timeout=RUN_DONE_TIMEOUT_MS)
    bar = page.locator("#live-progress")
    expect(bar).not_to_have_attribute("aria-valuenow", "0", timeout=RUN_DONE_TIMEOUT_MS)
    row.locator("button.cancel").click()
    expect(row.locator(".col-state")).to_have_text("cancelled")
    expect(row.locator("button.cancel")).to_be_hidden()
    expect(page.locator("#live-state")).to_have_text("cancelled")
    page.screenshot(path=str(artifacts / "cancelled.png"))
    info = api_get(page, f"{server}/api/runs/{run_id}")
    assert (info["state"], info["links"]) == ("cancelled", {})
    assert 0 < int(bar.get_attribute("aria-valuenow") or "") < 100
    assert console.unexpected() == []


def test_compare_two_finished_runs(
    page: Page, context: BrowserContext, server: str, console: Console, artifacts: Path
) -> None:
    first = start_generated_run(page, days=1, seed=1, label="<i>seed</i> one")
    second = start_generated_run(page, days=1, seed=2, label="seed two")
    # Text from the server is shown as text, never parsed as HTML.
    expect(run_row(page, first).locator(".col-label")).to_have_text("<i>seed</i> one")
    expect(run_row(page, first).locator(".col-label i")).to_have_count(0)
    compare = page.locator("#compare-btn")
    for run_id in (first, second):
        expect(run_row(page, run_id).locator(".col-state")).to_have_text("done", timeout=RUN_DONE_TIMEOUT_MS)
    expect(compare).to_be_disabled()
    run_row(page, second).locator("input.pick").check()
    expect(compare).to_be_disabled()
    run_row(page, first).locator("input.pick").check()
    expect(compare).to_be_enabled()
    page.screenshot(path=str(artifacts / "compare-selected.png"))

    with context.expect_page() as opened:
        compare.click()
    report = opened.value
    report.wait_for_load_state()
    assert report.url == f"{server}/compare?ids={second},{first}"
    expect(report.locator(".plot").first).to_be_attached()
    expect(report.locator(".plot:not(.js-plotly-plot)")).to_have_count(0)
    expect(report.locator("table.summary thead th")).to_have_text(
        ["figure", f"{second} (seed two)", f"{first} (<i>seed</i> one)"]
    )
    report.screenshot(path=str(artifacts / "compare.png"), full_page=True)
    assert console.unexpected() == []


def test_the_api_reference_opens_from_the_page(
    page: Page, context: BrowserContext, server: str, console: Console, artifacts: Path
) -> None:
    requested: list[str] = []
    context.on("request", lambda request: requested.append(request.url))
    with context.expect_page() as opened:
        page.click("#api-link")
    docs = opened.value
    docs.wait_for_load_state()
    assert docs.url == f"{server}/docs"
    expect(docs.locator("h1")).to_contain_text("pmtwin dashboard")
    paths = api_get(page, f"{server}/openapi.json")["paths"]
    expect(docs.locator("h3[id^='op-']")).to_have_count(sum(len(item) for item in paths.values()))
    docs.locator("ul.toc a", has_text="/api/runs/{run_id}/cancel").click()
    expect(docs.locator("h3[id^='op-cancel']")).to_be_in_viewport()
    docs.screenshot(path=str(artifacts / "api-docs.png"))
    assert all(url.startswith(server) for url in requested), requested
    assert console.unexpected() == []


def test_the_table_fills_the_live_panel_when_the_stream_is_refused(page: Page, console: Console) -> None:
    """A browser does not retry an event stream answered with an error (a proxy's 502, say): the live
    panel then shows what the runs table's refresh reads."""
    page.route("**/events", lambda route: route.fulfill(status=502, body="bad gateway"))
    run_id = start_generated_run(page, days=1, seed=5, label="behind a proxy")
    expect(run_row(page, run_id).locator(".col-state")).to_have_text("done", timeout=RUN_DONE_TIMEOUT_MS)
    expect(page.locator("#live-state")).to_have_text("done")
    expect(page.locator("#live-label")).to_have_text("behind a proxy")
    expect(page.locator("#live-progress")).to_have_text("100%")
    expect(page.locator("#live-report-link")).to_be_visible()
    assert console.unexpected(allowed_statuses=(502,)) == []
