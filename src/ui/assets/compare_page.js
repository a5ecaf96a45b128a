// One metric of several runs in one chart (#/compare?runs=a,b&metric=k&x=).
// The metric chooser offers every metric any of the runs logged; a run
// without the chosen metric is listed but not drawn. Polls while any of the
// runs is RUNNING.
import { api } from "./api.js";
import { LineChart, seriesColor, toChartSeries } from "./chart.js";
import { el, errorBox, formatNumber, statusBadge } from "./dom.js";

const POLL_MS = 2000;

// train/loss first when present: it is what every run logs from step one.
function defaultMetric(keys) {
  return keys.includes("train/loss") ? "train/loss" : keys[0] || "";
}

export function renderComparePage(root, query, ctx) {
  const refs = (query.get("runs") || "").split(",").map((s) => s.trim()).filter(Boolean);
  let metric = query.get("metric") || "";
  let xMode = query.get("x") === "relative" ? "relative" : "step";
  let timer = null;
  let chart = null;
  let infos = [];

  root.append(el("p", {}, el("a", { href: "#/" }, "← all runs")), el("h1", {}, "Compare runs"));
  if (refs.length === 0) {
    root.append(errorBox("Nothing to compare: select runs in the runs table, or open #/compare?runs=a,b&metric=key."));
    return () => {};
  }
  const select = el("select", { "data-testid": "metric-select", "aria-label": "metric" });
  const xSelect = el("select", { "data-testid": "compare-x", "aria-label": "x axis" },
    el("option", { value: "step" }, "step"), el("option", { value: "relative" }, "seconds since start"));
  xSelect.value = xMode;
  const chartBox = el("div", { class: "chart-wide" });
  const legend = el("table", { class: "compare-runs", "data-testid": "compare-runs" });
  const problem = el("div");
  root.append(el("div", { class: "toolbar" }, el("label", {}, "metric ", select), el("label", {}, "x axis ", xSelect)),
    problem, chartBox, legend);

  function saveHash() {
    const q = new URLSearchParams({ runs: refs.join(","), metric });
    if (xMode !== "step") q.set("x", xMode);
    history.replaceState(null, "", "#/compare?" + q.toString().replace(/%2C/g, ",").replace(/%2F/g, "/"));
  }

  select.addEventListener("change", () => {
    metric = select.value;
    saveHash();
    draw(true);
  });
  xSelect.addEventListener("change", () => {
    xMode = xSelect.value;
    saveHash();
    draw(true);
  });

  function renderLegend(drawnIds) {
    legend.replaceChildren(
      el("thead", {}, el("tr", {}, el("th", {}), el("th", {}, "run"), el("th", {}, "status"),
        el("th", { class: "num" }, `${metric} last`), el("th", { class: "num" }, "best"))),
      el("tbody", {}, infos.map((info, i) => {
        const m = info.metrics.find((x) => x.key === metric);
        const color = drawnIds.indexOf(info.run.id);
        return el("tr", { "data-testid": "compare-row", "data-run-id": info.run.id },
          el("td", {}, color >= 0 ? el("span", { class: "swatch", style: `background:${seriesColor(color)}` }) : ""),
          el("td", {}, el("a", { href: "#/run/" + encodeURIComponent(info.run.id) }, info.run.name || info.run.id),
            " ", el("span", { class: "mono muted" }, info.run.id)),
          el("td", {}, statusBadge(info.run.status)),
          el("td", { class: "num" }, m ? formatNumber(m.last) : "(not logged)"),
          el("td", { class: "num" }, m ? formatNumber(m.best) : ""));
      })));
  }

  async function draw(rebuild) {
    const withMetric = infos.filter((info) => info.metrics.some((m) => m.key === metric));
    const series = await Promise.all(withMetric.map((info) => api.series(info.run.id, metric, false)));
    if (!ctx.alive()) return;
    if (rebuild && chart) {
      chart.destroy();
      chart = null;
    }
    if (!chart) chart = new LineChart(chartBox, { metric, title: metric, xMode, testid: "compare-chart", height: 360 });
    chart.update(series.map((s, i) => toChartSeries(withMetric[i].run.name || withMetric[i].run.id, s, xMode)));
    renderLegend(withMetric.map((info) => info.run.id));
  }

  async function load(first) {
    try {
      infos = await Promise.all(refs.map((ref) => api.run(ref)));
      if (!ctx.alive()) return;
      if (first) {
        const keys = [...new Set(infos.flatMap((info) => info.metrics.map((m) => m.key)))].sort();
        if (!keys.includes(metric)) metric = defaultMetric(keys);
        select.replaceChildren(...keys.map((k) => el("option", { value: k }, k)));
        select.value = metric;
        saveHash();
      }
      await draw(first);
      if (!ctx.alive()) return;
      if (infos.some((info) => info.run.status === "RUNNING")) timer = setTimeout(() => load(false), POLL_MS);
    } catch (e) {
      if (!ctx.alive()) return;
      if (first) problem.replaceChildren(errorBox(e.message));
      else timer = setTimeout(() => load(false), POLL_MS * 2);
    }
  }

  load(true);
  return () => {
    clearTimeout(timer);
    if (chart) chart.destroy();
  };
}
