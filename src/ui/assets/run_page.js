// One run (#/run/<run>?x=step|time): its record, a chart per metric (x axis
// step or wall time), system metrics, config tree, manifest and artifacts.
// While the run is RUNNING the page polls every 2 s and redraws only the
// series whose summary (count, last step) changed.
import { api, artifactUrl } from "./api.js";
import { LineChart, toChartSeries } from "./chart.js";
import { clear, el, errorBox, formatBytes, formatDuration, formatTime, statusBadge } from "./dom.js";
import { configTree, jsonTree } from "./trees.js";

const POLL_MS = 2000;

function recordList(run) {
  const tags = Object.entries(run.tags || {});
  const rows = [
    ["status", statusBadge(run.status)],
    ["id", el("span", { class: "mono" }, run.id)],
    ["experiment", run.experiment],
    ["start", formatTime(run.start_time)],
    ["end", formatTime(run.end_time)],
    ["duration", formatDuration(run.duration)],
    ["host", run.host],
    ["user", run.user],
    ["pid", run.pid],
    ["git commit", el("span", { class: "mono" }, run.git_commit || "(none)")],
    ["sweep", run.sweep_id],
    ["directory", el("span", { class: "mono" }, run.dir)],
    ["tags", tags.length ? tags.map(([k, v]) => el("span", { class: "tag", "data-testid": "tag" }, `${k}=${v}`)) : "(none)"],
  ];
  if (run.error) rows.splice(1, 0, ["error", el("pre", { class: "error" }, run.error)]);
  return el("dl", { class: "record", "data-testid": "run-record" },
    rows.filter(([, v]) => v !== "" && v !== undefined && v !== null)
      .map(([k, v]) => [el("dt", {}, k), el("dd", { "data-field": k }, v)]));
}

function artifactTable(runId, artifacts) {
  if (!artifacts.length) return el("p", { class: "muted" }, "No artifacts recorded (they are listed when the run ends).");
  return el("table", { class: "artifacts", "data-testid": "artifacts" },
    el("thead", {}, el("tr", {}, el("th", {}, "path"), el("th", { class: "num" }, "size"), el("th", {}, "sha256"))),
    el("tbody", {}, artifacts.map((a) => el("tr", {},
      el("td", {}, el("a", { href: artifactUrl(runId, a.path), download: a.path.split("/").pop(),
        "data-testid": "artifact-link" }, a.path)),
      el("td", { class: "num" }, formatBytes(a.size)),
      el("td", { class: "mono", title: a.sha256 }, a.sha256.slice(0, 12))))));
}

// train/, val/, test/ first (what people look at), then the rest, each by key.
function chartOrder(metrics) {
  const rank = (key) => {
    const i = ["train/", "val/", "test/"].findIndex((p) => key.startsWith(p));
    return i < 0 ? 3 : i;
  };
  return [...metrics].sort((a, b) => rank(a.key) - rank(b.key) || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

export function renderRunPage(root, ref, query, ctx) {
  let xMode = query.get("x") === "time" ? "time" : "step";
  let timer = null;
  let info = null;
  const charts = new Map();        // metric key -> LineChart
  const systemCharts = new Map();  // system metric key -> LineChart
  const drawnVersion = new Map();  // metric key -> "count:step" last drawn

  const title = el("h1", {}, ref);
  const recordBox = el("section", { class: "panel" });
  const chartGrid = el("div", { class: "chart-grid", "data-testid": "metric-charts" });
  const systemGrid = el("div", { class: "chart-grid", "data-testid": "system-charts" });
  const liveNote = el("span", { class: "live", "data-testid": "live", hidden: true }, "live");
  const xButtons = ["step", "time"].map((mode) =>
    el("button", { type: "button", class: "toggle", "data-testid": "x-axis-" + mode, "aria-pressed": String(mode === xMode),
      onclick: () => setXMode(mode) }, mode === "step" ? "Step" : "Wall time"));
  const configBox = el("section", { class: "panel" });
  const manifestBox = el("section", { class: "panel" });
  const artifactBox = el("section", { class: "panel" });
  const systemSection = el("section", {}, el("h2", {}, "System metrics"), systemGrid);

  root.append(
    el("p", {}, el("a", { href: "#/" }, "← all runs")), title, recordBox,
    el("section", {}, el("div", { class: "section-head" }, el("h2", {}, "Metrics ", liveNote),
      el("span", { class: "segmented" }, "x axis: ", xButtons)), chartGrid),
    systemSection,
    el("h2", {}, "Config"), configBox,
    el("h2", {}, "Manifest"), manifestBox,
    el("h2", {}, "Artifacts"), artifactBox,
  );

  function setXMode(mode) {
    if (mode === xMode) return;
    xMode = mode;
    for (const b of xButtons) b.setAttribute("aria-pressed", String(b.dataset.testid === "x-axis-" + mode));
    history.replaceState(null, "", `#/run/${encodeURIComponent(ref)}${mode === "time" ? "?x=time" : ""}`);
    // uPlot fixes a time or numeric x scale at creation: rebuild the charts.
    for (const chart of charts.values()) chart.destroy();
    charts.clear();
    drawnVersion.clear();
    refreshSeries(info, true);
  }

  function chartFor(map, grid, key, mode, testid) {
    let chart = map.get(key);
    if (!chart) {
      chart = new LineChart(grid, { metric: key, xMode: mode, testid });
      map.set(key, chart);
    }
    return chart;
  }

  async function refreshSeries(data, force) {
    const runId = data.run.id;
    // Charts are created before any fetch returns, so they keep the API's order.
    const jobs = chartOrder(data.metrics).map(async (m) => {
      const chart = chartFor(charts, chartGrid, m.key, xMode, "chart");
      const version = `${m.count}:${m.step}`;
      if (!force && drawnVersion.get(m.key) === version) return;
      const series = await api.series(runId, m.key, false);
      if (!ctx.alive() || charts.get(m.key) !== chart) return;
      chart.update([toChartSeries(data.run.name || runId, series, xMode)]);
      drawnVersion.set(m.key, version);
    });
    // System metrics are sampled every few seconds: redraw them every poll.
    const systemJobs = data.system_metrics.map(async (key) => {
      const chart = chartFor(systemCharts, systemGrid, key, "time", "system-chart");
      const series = await api.series(runId, key, true);
      if (!ctx.alive()) return;
      chart.update([toChartSeries(key, series, "time")]);
    });
    await Promise.all([...jobs, ...systemJobs]);
  }

  function renderStatic(data) {
    const run = data.run;
    title.replaceChildren(run.name || run.id, " ", statusBadge(run.status));
    document.title = `${run.name || run.id} · kiln`;
    clear(recordBox).append(recordList(run));
    liveNote.hidden = run.status !== "RUNNING";
    if (!data.metrics.length) chartGrid.replaceChildren(el("p", { class: "muted" }, "No metrics logged yet."));
    else chartGrid.querySelector(":scope > p")?.remove();
    systemSection.hidden = data.system_metrics.length === 0;
    clear(artifactBox).append(artifactTable(run.id, data.artifacts));
  }

  async function load(first) {
    try {
      const data = await api.run(ref);
      if (!ctx.alive()) return;
      info = data;
      renderStatic(data);
      if (first) {
        clear(configBox).append(configTree(data.params));
        clear(manifestBox).append(data.manifest === null
          ? el("p", { class: "muted" }, "No manifest.")
          : jsonTree(data.manifest, "manifest", "manifest"));
      }
      await refreshSeries(data, first);
      if (!ctx.alive()) return;
      if (data.run.status === "RUNNING") timer = setTimeout(() => load(false), POLL_MS);
    } catch (e) {
      if (!ctx.alive()) return;
      if (first) root.replaceChildren(el("p", {}, el("a", { href: "#/" }, "← all runs")), errorBox(e.message));
      // A failed poll (server restarting) is retried rather than ending the live view.
      else timer = setTimeout(() => load(false), POLL_MS * 2);
    }
  }

  load(true);
  return () => {
    clearTimeout(timer);
    for (const chart of [...charts.values(), ...systemCharts.values()]) chart.destroy();
  };
}
