// What differs between two runs (#/diff?a=<run>&b=<run>): /api/diff as three
// tables, as `kiln runs diff` prints them: config params (a → b),
// environment (from the manifests) and metrics (last and best, with deltas).
import { api } from "./api.js";
import { el, errorBox, formatNumber } from "./dom.js";

function absent(value) {
  return value === null || value === undefined ? el("span", { class: "muted" }, "(absent)") : value;
}

function changeTable(rows, testid, emptyText) {
  if (!rows.length) return el("p", { class: "muted", "data-testid": testid + "-empty" }, emptyText);
  return el("table", { class: "diff", "data-testid": testid + "-table" },
    el("thead", {}, el("tr", {}, el("th", {}, "key"), el("th", {}, "a"), el("th", {}), el("th", {}, "b"))),
    el("tbody", {}, rows.map((row) => el("tr", { "data-testid": testid, "data-key": row.key },
      el("td", { class: "mono" }, row.key),
      el("td", { class: "old", "data-testid": "diff-a" }, absent(row.a)),
      el("td", { class: "arrow" }, "→"),
      el("td", { class: "new", "data-testid": "diff-b" }, absent(row.b))))));
}

function delta(value) {
  if (value === null || value === undefined) return "";
  const text = formatNumber(value);
  return value > 0 ? "+" + text : text;
}

function metricTable(rows) {
  if (!rows.length) return el("p", { class: "muted", "data-testid": "diff-metric-empty" }, "Neither run logged metrics.");
  const cell = (m, field) => (m ? formatNumber(m[field]) : el("span", { class: "muted" }, "(absent)"));
  return el("table", { class: "diff", "data-testid": "diff-metric-table" },
    el("thead", {}, el("tr", {}, ["key", "a last", "b last", "Δ last", "a best", "b best", "Δ best"]
      .map((h, i) => el("th", { class: i ? "num" : "" }, h)))),
    el("tbody", {}, rows.map((row) => el("tr", { "data-testid": "diff-metric", "data-key": row.key },
      el("td", { class: "mono" }, row.key),
      el("td", { class: "num" }, cell(row.a, "last")),
      el("td", { class: "num" }, cell(row.b, "last")),
      el("td", { class: "num delta", "data-testid": "diff-last-delta" }, delta(row.last_delta)),
      el("td", { class: "num" }, cell(row.a, "best")),
      el("td", { class: "num" }, cell(row.b, "best")),
      el("td", { class: "num delta" }, delta(row.best_delta))))));
}

function runLabel(side, info) {
  return el("div", { class: "diff-run", "data-testid": "diff-run-" + side },
    el("strong", {}, side + ": "),
    el("a", { href: "#/run/" + encodeURIComponent(info.run.id) }, info.run.name || info.run.id), " ",
    el("span", { class: "mono muted" }, info.run.id));
}

export function renderDiffPage(root, query, ctx) {
  const a = query.get("a") || "", b = query.get("b") || "";
  root.append(el("p", {}, el("a", { href: "#/" }, "← all runs")), el("h1", {}, "Diff"));
  if (!a || !b) {
    root.append(errorBox("A diff needs two runs: select exactly two in the runs table, or open #/diff?a=<run>&b=<run>."));
    return () => {};
  }
  const body = el("div", {}, el("p", { class: "muted" }, "Loading…"));
  root.append(body);
  Promise.all([api.diff(a, b), api.run(a), api.run(b)]).then(
    ([diff, infoA, infoB]) => {
      if (!ctx.alive()) return;
      body.replaceChildren(
        runLabel("a", infoA), runLabel("b", infoB),
        el("h2", {}, "Config"), changeTable(diff.params, "diff-param", "The configs are the same."),
        el("h2", {}, "Environment"), changeTable(diff.environment, "diff-env", "Same environment."),
        el("h2", {}, "Metrics"), metricTable(diff.metrics),
      );
    },
    (e) => {
      if (ctx.alive()) body.replaceChildren(errorBox(e.message));
    },
  );
  return () => {};
}
