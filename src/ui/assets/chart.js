// Line charts on uPlot (the global the embedded uPlot.iife.min.js defines).
// One chart is one metric; several series (runs) are aligned on the union of
// their x values. The wrapper element states what it draws, for people
// (title, legend) and for the browser test (data-points: the number of
// points of each series, comma-separated, in series order).
import { el } from "./dom.js";

const PALETTE = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#ca8a04", "#db2777"];

export function seriesColor(i) {
  return PALETTE[i % PALETTE.length];
}

// series: [{label, x: [...], y: [...]}]; y may hold null (NaN was stored:
// drawn as a gap). x values of different series need not match.
function alignedData(series) {
  if (series.length === 1) return [series[0].x, series[0].y];
  // join() marks x values a series lacks as undefined, which uPlot spans
  // over, while the series' own nulls stay gaps.
  return uPlot.join(series.map((s) => [s.x, s.y]));
}

function xAxisLabel(xMode) {
  return xMode === "time" ? "wall time" : xMode === "relative" ? "seconds since start" : "step";
}

// Steps are whole numbers: no tick at step 2.5.
const STEP_INCREMENTS = Array.from({ length: 30 }, (_, i) => [1, 2, 5][i % 3] * 10 ** Math.floor(i / 3));

// uPlot's default ticks have fixed decimals, which prints a learning rate
// of 3e-5 as "0"; ticks get significant digits instead.
function formatTick(value) {
  if (value === null || value === undefined) return "";
  const abs = Math.abs(value);
  if (abs === 0) return "0";
  if (abs < 1e-3 || abs >= 1e6) return value.toExponential(1);
  return String(Number(value.toPrecision(4)));
}

export class LineChart {
  // options: {title, metric, xMode: "step" | "time" | "relative", testid, height}
  constructor(parent, options) {
    this.options = { height: 220, testid: "chart", ...options };
    this.root = el("div", { class: "chart", "data-testid": this.options.testid, "data-metric": options.metric ?? "" });
    this.root.append(el("div", { class: "chart-title" }, options.title ?? options.metric ?? ""));
    this.canvas = el("div", { class: "chart-canvas" });
    this.root.append(this.canvas);
    parent.append(this.root);
    this.plot = null;
    this.labels = null;
    this.resizeObserver = new ResizeObserver(() => this.resize());
    this.resizeObserver.observe(this.root);
  }

  width() {
    return Math.max(240, this.canvas.clientWidth || this.root.clientWidth || 480);
  }

  resize() {
    if (this.plot && Math.abs(this.plot.width - this.width()) > 2)
      this.plot.setSize({ width: this.width(), height: this.options.height });
  }

  // Draws (or redraws) `series`. The uPlot instance is kept while the set
  // of series is the same, so live updates do not flicker or lose zoom.
  update(series) {
    const labels = series.map((s) => s.label).join("\u0000");
    const data = alignedData(series);
    if (this.plot && labels === this.labels) {
      this.plot.setData(data);
    } else {
      if (this.plot) this.plot.destroy();
      this.plot = new uPlot(this.plotOptions(series), data, this.canvas);
      this.labels = labels;
    }
    const counts = series.map((s) => s.y.filter((v) => v !== null && v !== undefined).length);
    this.root.dataset.series = String(series.length);
    this.root.dataset.points = counts.join(",");
    this.root.dataset.x = this.options.xMode;
  }

  plotOptions(series) {
    const xMode = this.options.xMode;
    // One x value (a test metric, a short run's one system sample): uPlot
    // widens it to a day (time) or 0..2x (steps) before asking; a narrow
    // window centred on the point reads better.
    const pad = xMode === "step" ? 1 : 30;
    const xRange = (u, min, max) => {
      const xs = u.data[0];
      return xs.length && xs[0] === xs[xs.length - 1] ? [xs[0] - pad, xs[0] + pad] : [min, max];
    };
    return {
      width: this.width(),
      height: this.options.height,
      scales: { x: { time: xMode === "time", range: xRange } },
      // A single series is named by the chart's title; the legend's hover
      // readout earns its space only when it tells runs apart.
      legend: { show: series.length > 1, live: true },
      cursor: { drag: { x: true, y: false } },
      axes: [
        { label: xAxisLabel(xMode), labelSize: 20, incrs: xMode === "step" ? STEP_INCREMENTS : undefined },
        { size: 64, values: (u, splits) => splits.map(formatTick) },
      ],
      series: [
        { label: xAxisLabel(xMode) },
        ...series.map((s, i) => ({
          label: s.label,
          stroke: seriesColor(i),
          width: 1.5,
          spanGaps: false,
          points: { show: s.x.length <= 60, size: 4 },
        })),
      ],
    };
  }

  destroy() {
    this.resizeObserver.disconnect();
    if (this.plot) this.plot.destroy();
    this.plot = null;
    this.root.remove();
  }
}

// A metric series from the API as one chart series, its x chosen by mode.
// "relative" (seconds since the run's first point) lets runs that ran at
// different times share a time axis.
export function toChartSeries(label, apiSeries, xMode) {
  let x = apiSeries.steps;
  if (xMode === "time") x = apiSeries.times;
  if (xMode === "relative") {
    const t0 = apiSeries.times.length ? apiSeries.times[0] : 0;
    x = apiSeries.times.map((t) => t - t0);
  }
  return { label, x, y: apiSeries.values };
}
