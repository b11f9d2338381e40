/* pmtwin live dashboard: the "New run" form, the runs table and the live panel.
 *
 * Plain browser JavaScript, no build step and no network beyond this server (the page works offline).
 * Text from the server is always inserted with textContent, never as HTML: trace names are user-chosen.
 * The HTTP contract is the server's (/api/options, /api/traces, /api/uploads, /api/runs, SSE events).
 */
"use strict";

(() => {
  const REFRESH_MS = 2000;
  const DRAW_DELAY_MS = 150;
  const ACTIVE = new Set(["queued", "running"]);
  const TERMINAL = new Set(["done", "failed", "cancelled"]);
  const $ = (id) => document.getElementById(id);

  /* All the page's state, in one place. */
  const state = {
    selected: [],          // run ids checked for comparison, in the order they were checked
    rows: new Map(),       // run id -> its <tr>
    live: { id: null, state: "", progress: 0, pinned: false, source: null, pools: new Map(), drawTimer: null },
  };

  /* ---------- HTTP helpers ---------- */

  /** Fetches a path; answers {ok, status, body} with the JSON (or text) body, never throws on HTTP errors. */
  async function api(path, options = {}) {
    const resp = await fetch(path, options);
    const text = await resp.text();
    let body = text;
    try { body = text ? JSON.parse(text) : null; } catch (_err) { /* not JSON: keep the text */ }
    return { ok: resp.ok, status: resp.status, body };
  }

  /** A readable message from an error answer: FastAPI's detail (string or list of field errors). */
  function errorText(status, body) {
    const detail = body && typeof body === "object" ? body.detail : body;
    if (Array.isArray(detail)) {
      return detail.map((item) => {
        const loc = (item.loc || []).filter((part) => part !== "body").join(".");
        return loc ? `${loc}: ${item.msg}` : String(item.msg);
      }).join("\n");
    }
    if (typeof detail === "string" && detail) return detail;
    return `the server answered HTTP ${status}`;
  }

  function showMessage(el, text) { el.textContent = text; el.hidden = !text; }

  /** Replaces a select's options with (value, text) pairs, keeping the current choice when still there. */
  function fillSelect(select, items, keepFirst = 0) {
    const previous = select.value;
    while (select.options.length > keepFirst) select.remove(keepFirst);
    for (const [value, text] of items) {
      const option = document.createElement("option");
      option.value = value;
      option.textContent = text;
      select.append(option);
    }
    if ([...select.options].some((o) => o.value === previous)) select.value = previous;
  }

  /** A link target from the server, accepted only when it is a path on this server. */
  function localHref(href) { return typeof href === "string" && href.startsWith("/") ? href : null; }

  /* ---------- formatting ---------- */

  const pct = (fraction) => `${Math.round(Math.max(0, Math.min(1, fraction || 0)) * 100)}%`;

  function duration(seconds) {
    if (seconds < 120) return `${seconds.toFixed(0)} s`;
    if (seconds < 7200) return `${(seconds / 60).toFixed(1)} min`;
    return `${(seconds / 3600).toFixed(2)} h`;
  }

  function setBar(bar, fraction) {
    const text = pct(fraction);
    bar.querySelector(".fill").style.width = text;
    bar.querySelector(".pct").textContent = text;
    bar.setAttribute("aria-valuenow", String(parseInt(text, 10)));
  }

  function newBar() {
    const bar = document.createElement("div");
    bar.className = "bar small";
    bar.setAttribute("role", "progressbar");
    const fill = document.createElement("div");
    fill.className = "fill";
    const label = document.createElement("span");
    label.className = "pct";
    bar.append(fill, label);
    return bar;
  }

  /* ---------- the form ---------- */

  async function loadOptions() {
    const { ok, status, body } = await api("/api/options");
    if (!ok) { showMessage($("run-error"), `options: ${errorText(status, body)}`); return; }
    fillSelect($("machine"), body.machines.map((m) => [m, m]));
    fillSelect($("model"), body.models.map((m) => [m, m]));
    fillSelect($("policy"), body.policies.map((p) => [p, p]));
    fillSelect($("priority"), body.priorities.map((p) => [p, p]), 1);
    if ([...$("policy").options].some((o) => o.value === "easy")) $("policy").value = "easy";
    const limits = body.limits || {};
    if (limits.max_days) $("days").max = String(limits.max_days);
    const mib = limits.max_upload_bytes ? `${(limits.max_upload_bytes / 2 ** 20).toFixed(0)} MiB` : "?";
    $("server-note").textContent =
      `up to ${limits.max_runs} runs at once, ${limits.max_days} simulated days, uploads of ${mib}`;
  }

  async function loadTraces(selectId = null) {
    const { ok, status, body } = await api("/api/traces");
    if (!ok) { showMessage($("run-error"), `traces: ${errorText(status, body)}`); return; }
    const items = body.map((t) => {
      const jobs = t.jobs === null || t.jobs === undefined ? "" : `, ${t.jobs} jobs`;
      return [t.id, `${t.name} (${t.source}${jobs})`];
    });
    fillSelect($("trace"), items);
    if (selectId) $("trace").value = selectId;
  }

  function onKindChange() {
    const kind = $("workload-kind").value;
    $("panel-generated").hidden = kind !== "generated";
    $("panel-trace").hidden = kind !== "trace";
    $("panel-upload").hidden = kind !== "upload";
  }

  /** A number field's value: null when empty; a clear error when the browser could not read it. */
  function numberField(id, name) {
    const input = $(id);
    if (input.validity.badInput) throw new Error(`${name}: not a number`);
    return input.value.trim() === "" ? null : Number(input.value);
  }

  function buildRequest() {
    const kind = $("workload-kind").value;
    const request = { machine: $("machine").value, policy: $("policy").value };
    if (kind === "generated") {
      request.workload = {
        kind: "generated", model: $("model").value,
        days: numberField("days", "Days"), seed: numberField("seed", "Seed"),
      };
      request.load_factor = numberField("load-factor", "Load factor");
    } else if (kind === "trace") {
      if (!$("trace").value) throw new Error("trace: choose a trace (or upload one)");
      request.workload = { kind: "trace", trace_id: $("trace").value };
    } else {
      throw new Error("upload: press Upload first; the uploaded trace is then selected");
    }
    request.priority = $("priority").value || null;
    request.power_cap_mw = numberField("power-cap-mw", "Power cap (MW)");
    request.gpu_power_cap_w = numberField("gpu-power-cap-w", "GPU cap (W)");
    request.outdoor_temp_c = numberField("outdoor-temp-c", "Outdoor temperature");
    const label = $("label").value.trim();
    if (label) request.label = label;
    return request;
  }

  async function startRun(event) {
    event.preventDefault();
    const errorBox = $("run-error");
    showMessage(errorBox, "");
    let request;
    try { request = buildRequest(); } catch (err) { showMessage(errorBox, err.message); return; }
    $("start-btn").disabled = true;
    try {
      const { ok, status, body } = await api("/api/runs", {
        method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(request),
      });
      if (!ok) { showMessage(errorBox, errorText(status, body)); return; }
      watch(body.id, true);
      await refreshRuns();
    } catch (err) {
      showMessage(errorBox, `the server did not answer (${err.message})`);
    } finally {
      $("start-btn").disabled = false;
    }
  }

  async function upload() {
    const errorBox = $("upload-error");
    const file = $("upload-file").files[0];
    showMessage(errorBox, "");
    if (!file) { showMessage(errorBox, "choose a file first"); return; }
    $("upload-btn").disabled = true;
    try {
      const { ok, status, body } = await api(`/api/uploads?name=${encodeURIComponent(file.name)}`, {
        method: "POST", headers: { "Content-Type": "application/octet-stream" }, body: file,
      });
      if (!ok) { showMessage(errorBox, errorText(status, body)); return; }
      await loadTraces(body.id);
      $("workload-kind").value = "trace";
      onKindChange();
      const skipped = Object.entries(body.skipped || {}).filter(([, n]) => n > 0)
        .map(([why, n]) => `${n} ${why}`).join(", ");
      showMessage($("upload-status"),
        `Uploaded ${body.name}: ${body.jobs} jobs${skipped ? ` (skipped: ${skipped})` : ""}`);
      $("upload-file").value = "";
    } catch (err) {
      showMessage(errorBox, `the upload failed (${err.message})`);
    } finally {
      $("upload-btn").disabled = false;
    }
  }

  /* ---------- the runs table ---------- */

  function newRow(id) {
    const row = document.createElement("tr");
    row.dataset.runId = id;
    const cells = ["pick", "id", "label", "state", "progress", "phase", "links", "actions"].map((name) => {
      const cell = document.createElement("td");
      cell.className = `col-${name}`;
      row.append(cell);
      return cell;
    });
    const box = document.createElement("input");
    box.type = "checkbox";
    box.className = "pick";
    box.setAttribute("aria-label", `compare ${id}`);
    box.addEventListener("change", () => togglePick(id, box.checked));
    cells[0].append(box);
    cells[4].append(newBar());
    const cancel = document.createElement("button");
    cancel.type = "button";
    cancel.className = "cancel";
    cancel.textContent = "Cancel";
    cancel.addEventListener("click", () => cancelRun(id));
    cells[7].append(cancel);
    row.addEventListener("click", (ev) => {
      if (!ev.target.closest("input, button, a")) watch(id, true);
    });
    return row;
  }

  function fillLinks(cell, links) {
    cell.replaceChildren();
    for (const [key, text] of [["report", "report"], ["summary", "summary"]]) {
      const href = localHref((links || {})[key]);
      if (!href) continue;
      const a = document.createElement("a");
      a.href = href;
      a.target = "_blank";
      a.rel = "noopener";
      a.className = `link-${key}`;
      a.textContent = text;
      cell.append(a, " ");
    }
  }

  function updateRow(row, run) {
    const cell = (name) => row.querySelector(`.col-${name}`);
    row.dataset.state = run.state;
    row.classList.toggle("watched", run.id === state.live.id);
    cell("id").textContent = run.id;
    cell("label").textContent = run.label || "";
    const badge = cell("state");
    badge.textContent = run.state;
    badge.className = `col-state state state-${run.state}`;
    if (run.error) badge.title = run.error; else badge.removeAttribute("title");
    setBar(cell("progress").querySelector(".bar"), run.progress);
    cell("phase").textContent = run.phase || "";
    const linksKey = JSON.stringify(run.links || {});
    if (cell("links").dataset.key !== linksKey) {
      fillLinks(cell("links"), run.links);
      cell("links").dataset.key = linksKey;
    }
    const box = row.querySelector("input.pick");
    box.disabled = run.state !== "done";
    box.checked = state.selected.includes(run.id);
    box.title = box.disabled ? "only finished runs can be compared" : "compare this run";
    row.querySelector("button.cancel").hidden = !ACTIVE.has(run.state);
  }

  function renderRuns(runs) {
    const body = $("runs-table").tBodies[0];
    const ids = new Set(runs.map((r) => r.id));
    for (const [id, row] of state.rows) {
      if (!ids.has(id)) { row.remove(); state.rows.delete(id); }
    }
    state.selected = state.selected.filter((id) => runs.some((r) => r.id === id && r.state === "done"));
    runs.forEach((run, index) => {
      let row = state.rows.get(run.id);
      if (!row) { row = newRow(run.id); state.rows.set(run.id, row); }
      if (body.children[index] !== row) body.insertBefore(row, body.children[index] || null);
      updateRow(row, run);
    });
    $("compare-btn").disabled = state.selected.length < 2;
  }

  async function refreshRuns() {
    try {
      const { ok, status, body } = await api("/api/runs");
      if (!ok) { showMessage($("refresh-error"), `runs: ${errorText(status, body)}`); return; }
      showMessage($("refresh-error"), "");
      renderRuns(body);
      followRuns(body);
    } catch (err) {
      showMessage($("refresh-error"), `the server does not answer (${err.message})`);
    }
  }

  function togglePick(id, checked) {
    state.selected = state.selected.filter((other) => other !== id);
    if (checked) state.selected.push(id);
    $("compare-btn").disabled = state.selected.length < 2;
  }

  function openCompare() {
    if (state.selected.length < 2) return;
    window.open(`/compare?ids=${state.selected.map(encodeURIComponent).join(",")}`, "_blank");
  }

  async function cancelRun(id) {
    try {
      const { ok, status, body } = await api(`/api/runs/${encodeURIComponent(id)}/cancel`, { method: "POST" });
      showMessage($("runs-error"), ok ? "" : `cancel ${id}: ${errorText(status, body)}`);
    } catch (err) {
      showMessage($("runs-error"), `cancel ${id}: the server did not answer (${err.message})`);
    }
    await refreshRuns();
  }

  /* ---------- the live panel ---------- */

  /**
   * Keeps the live panel on the run the user chose, else on the newest running run. The panel shows
   * what the run's event stream says: the stream sends every progress point before the state read with
   * it, so the bar passes through each point; the table's refresh, read at another moment, would jump
   * it ahead of points not yet received. Only once the browser has given up on the stream (it does not
   * retry a refused one, say a proxy's 502) does the table's state fill the panel.
   */
  function followRuns(runs) {
    const live = state.live;
    const current = runs.find((r) => r.id === live.id);
    if (current && live.source && live.source.readyState === EventSource.CLOSED) applyLiveInfo(current);
    if (live.pinned && current) return;
    const running = runs.find((r) => r.state === "running");
    if (running && running.id !== live.id && !(current && ACTIVE.has(current.state))) watch(running.id, false);
  }

  function watch(id, pinned) {
    const live = state.live;
    live.pinned = pinned;
    if (live.id === id) return;
    if (live.source) live.source.close();
    live.id = id;
    live.state = "";
    live.progress = 0;
    setBar($("live-progress"), 0);
    live.pools = new Map();
    $("live-run-id").textContent = id;
    $("live-label").textContent = "";
    $("live-empty").hidden = true;
    $("live-done").hidden = true;
    showMessage($("live-error"), "");
    for (const row of state.rows.values()) row.classList.toggle("watched", row.dataset.runId === id);
    drawCharts();
    const source = new EventSource(`/api/runs/${encodeURIComponent(id)}/events`);
    live.source = source;
    source.addEventListener("open", () => { live.pools = new Map(); });
    source.addEventListener("state", (ev) => {
      applyLiveInfo(JSON.parse(ev.data));
      refreshRuns();
    });
    source.addEventListener("progress", (ev) => addPoint(JSON.parse(ev.data)));
    // The server ends the stream after a terminal state (once it has sent the series): do not reconnect.
    source.addEventListener("error", () => { if (TERMINAL.has(live.state)) source.close(); });
  }

  function applyLiveInfo(info) {
    if (info.id !== state.live.id) return;
    state.live.state = info.state;
    $("live-label").textContent = info.label || "";
    $("live-state").textContent = info.state;
    $("live-state").className = `state state-${info.state}`;
    $("live-phase").textContent = info.phase || "";
    advanceLiveProgress(info.state === "done" ? 1 : info.progress);
    showMessage($("live-error"), info.state === "failed" ? `failed: ${info.error || "no reason given"}` : "");
    const report = localHref((info.links || {}).report);
    $("live-done").hidden = !(info.state === "done" && report);
    if (info.state === "done" && report) {
      $("live-report-link").href = report;
      showFigures(info.figures);
    }
  }

  /** Moves the live bar forward only (a reconnected stream sends its points again from the first). */
  function advanceLiveProgress(fraction) {
    const live = state.live;
    live.progress = Math.max(live.progress, fraction || 0);
    setBar($("live-progress"), live.progress);
  }

  function showFigures(figures) {
    const list = $("live-figures");
    list.replaceChildren();
    if (!figures) return;
    const items = [
      ["jobs", Number(figures.jobs).toLocaleString("en-US")],
      ["utilization", `${(100 * figures.utilization).toFixed(1)}%`],
      ["mean wait", duration(figures.mean_wait_s)],
      ["energy", figures.energy_mwh === null || figures.energy_mwh === undefined
        ? "not modelled" : `${figures.energy_mwh.toFixed(2)} MWh`],
    ];
    for (const [name, value] of items) {
      const dt = document.createElement("dt");
      dt.textContent = name;
      const dd = document.createElement("dd");
      dd.textContent = value;
      list.append(dt, dd);
    }
  }

  function addPoint(point) {
    const live = state.live;
    const days = point.time_s / 86400;
    for (const [pool, level] of Object.entries(point.levels || {})) {
      if (!live.pools.has(pool)) live.pools.set(pool, { days: [], utilization: [], queued: [] });
      const series = live.pools.get(pool);
      series.days.push(days);
      series.utilization.push(level.utilization);
      series.queued.push(level.queued_jobs);
    }
    advanceLiveProgress(point.progress);
    if (live.drawTimer === null) {
      live.drawTimer = setTimeout(() => { live.drawTimer = null; drawCharts(); }, DRAW_DELAY_MS);
    }
  }

  function chartLayout(yTitle, extraY) {
    return {
      height: 250, margin: { l: 55, r: 10, t: 10, b: 40 },
      xaxis: { title: { text: "simulated time (days)" }, rangemode: "tozero" },
      yaxis: { title: { text: yTitle }, rangemode: "tozero", ...extraY },
      legend: { orientation: "h", y: 1.02, yanchor: "bottom", x: 0 },
      paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "#fff",
    };
  }

  function drawCharts() {
    if (typeof Plotly === "undefined") {
      showMessage($("live-error"), "plotly.js did not load: the live charts are unavailable");
      return;
    }
    const pools = [...state.live.pools.entries()];
    const traces = (key) => pools.map(([pool, s]) => ({
      x: s.days, y: s[key], name: pool, type: "scatter", mode: "lines", line: { shape: "hv" },
    }));
    const config = { displaylogo: false, responsive: true };
    Plotly.react($("live-chart"), traces("utilization"),
      chartLayout("utilization", { range: [0, 1.05], tickformat: ".0%" }), config);
    Plotly.react($("queue-chart"), traces("queued"), chartLayout("queued jobs", {}), config);
  }

  /* ---------- start-up ---------- */

  async function init() {
    $("workload-kind").addEventListener("change", onKindChange);
    $("run-form").addEventListener("submit", startRun);
    $("upload-btn").addEventListener("click", upload);
    $("compare-btn").addEventListener("click", openCompare);
    onKindChange();
    drawCharts();
    try {
      await Promise.all([loadOptions(), loadTraces()]);
    } catch (err) {
      showMessage($("run-error"), `the server does not answer (${err.message})`);
    }
    await refreshRuns();
    setInterval(refreshRuns, REFRESH_MS);
    document.body.dataset.ready = "true";  // the form's choices are loaded (tests wait for this)
  }

  document.addEventListener("DOMContentLoaded", init);
})();
