// The runs table (#/?where=&sort=&cols=): filter with the `--where` language
// (docs/run-filter.md; the server parses it and its error is shown as is),
// sort by any column (server-side `sort`), pick metric columns, select runs
// to compare or diff. The page's state lives in its hash, so a view can be
// bookmarked and reloads keep it.
import { api } from "./api.js";
import { clear, el, formatDuration, formatNumber, formatTime, statusBadge } from "./dom.js";

const COLUMNS_KEY = "kiln-ui-metric-columns";
const REFRESH_MS = 3000;

// A key the --where/--sort language accepts bare, or quoted in backticks.
function fieldKey(prefix, key) {
  return /^[A-Za-z0-9_./-]+$/.test(key) ? `${prefix}.${key}` : `${prefix}.\`${key.replace(/[`\\]/g, "\\$&")}\``;
}

// Without a saved choice, validation and test metrics are what people compare.
function defaultColumns(metricKeys) {
  return metricKeys.filter((k) => /^(val|test)\//.test(k)).slice(0, 4);
}

export function renderRunsPage(root, query, ctx) {
  const state = {
    where: query.get("where") || "",
    sort: query.get("sort") || "",
    columns: query.has("cols") ? query.get("cols").split(",").filter(Boolean) : null,
    selected: new Set(),
    runs: [],
    metricKeys: [],
  };
  if (state.columns === null) {
    const saved = localStorage.getItem(COLUMNS_KEY);
    state.columns = saved ? JSON.parse(saved) : null;
  }

  const input = el("input", {
    type: "search", class: "filter-input", "data-testid": "filter-input", value: state.where,
    placeholder: "metrics.val/acc > 0.9 and params.optimizer.lr < 1e-3", spellcheck: "false",
    "aria-label": "filter runs",
  });
  const filterError = el("pre", { class: "error filter-error", "data-testid": "filter-error", hidden: true });
  const columnsBox = el("div", { class: "column-list", "data-testid": "column-chooser" });
  const compareButton = el("button", { type: "button", "data-testid": "compare-button", disabled: true }, "Compare");
  const diffButton = el("button", { type: "button", "data-testid": "diff-button", disabled: true }, "Diff");
  const count = el("span", { class: "muted", "data-testid": "run-count" });
  const table = el("table", { class: "runs", "data-testid": "runs-table" });
  const empty = el("p", { class: "muted", "data-testid": "runs-empty", hidden: true });

  const form = el(
    "form", { class: "filter", "data-testid": "filter-form" }, input,
    el("button", { type: "submit", "data-testid": "filter-apply" }, "Filter"),
    el("button", { type: "button", onclick: () => { input.value = ""; apply(); } }, "Clear"),
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    apply();
  });
  compareButton.addEventListener("click", () => {
    const ids = selectedInOrder().map((r) => r.id);
    const metric = state.columns && state.columns.length ? state.columns[0] : "";
    location.hash = `#/compare?runs=${ids.map(encodeURIComponent).join(",")}` +
      (metric ? `&metric=${encodeURIComponent(metric)}` : "");
  });
  diffButton.addEventListener("click", () => {
    // Older run first, so the diff reads "what changed since".
    const [a, b] = selectedInOrder().sort((x, y) => x.start_time - y.start_time);
    location.hash = `#/diff?a=${encodeURIComponent(a.id)}&b=${encodeURIComponent(b.id)}`;
  });

  root.append(
    el("h1", {}, "Runs"),
    el("div", { class: "toolbar" }, form,
      el("details", { class: "columns" }, el("summary", { "data-testid": "columns-summary" }, "Metric columns"), columnsBox),
      compareButton, diffButton, count),
    filterError, table, empty,
  );

  function saveHash() {
    const q = new URLSearchParams();
    if (state.where) q.set("where", state.where);
    if (state.sort) q.set("sort", state.sort);
    if (state.columns) q.set("cols", state.columns.join(","));
    const hash = "#/" + (q.toString() ? "?" + q : "");
    // replaceState: no hashchange, so the page is not rebuilt under the user.
    if (location.hash !== hash) history.replaceState(null, "", hash);
  }

  function apply() {
    state.where = input.value.trim();
    saveHash();
    load();
  }

  function selectedInOrder() {
    return state.runs.filter((r) => state.selected.has(r.id));
  }

  function updateButtons() {
    const n = selectedInOrder().length;
    compareButton.disabled = n < 1;
    diffButton.disabled = n !== 2;
    diffButton.title = n === 2 ? "" : "select exactly two runs";
  }

  function setSort(field) {
    state.sort = state.sort === field ? "-" + field : field;
    saveHash();
    load();
  }

  function header(label, field, extraClass) {
    let cls = "sortable" + (extraClass ? " " + extraClass : "");
    let arrow = "";
    if (state.sort === field) { cls += " sorted-asc"; arrow = " ▲"; }
    if (state.sort === "-" + field) { cls += " sorted-desc"; arrow = " ▼"; }
    return el("th", { class: cls, "data-testid": "sort-header", "data-sort-field": field, onclick: () => setSort(field) },
      label, arrow);
  }

  function renderColumns() {
    clear(columnsBox);
    if (state.metricKeys.length === 0) columnsBox.append(el("span", { class: "muted" }, "no metrics yet"));
    for (const key of state.metricKeys) {
      const box = el("input", { type: "checkbox", checked: state.columns.includes(key), "data-testid": "column-toggle",
        "data-metric": key });
      box.addEventListener("change", () => {
        state.columns = box.checked ? [...state.columns, key] : state.columns.filter((k) => k !== key);
        localStorage.setItem(COLUMNS_KEY, JSON.stringify(state.columns));
        saveHash();
        renderTable();
      });
      columnsBox.append(el("label", {}, box, " ", key));
    }
  }

  function renderTable() {
    clear(table);
    const allBox = el("input", { type: "checkbox", "aria-label": "select all", "data-testid": "select-all",
      checked: state.runs.length > 0 && state.runs.every((r) => state.selected.has(r.id)) });
    allBox.addEventListener("change", () => {
      for (const r of state.runs) allBox.checked ? state.selected.add(r.id) : state.selected.delete(r.id);
      renderTable();
    });
    table.append(el("thead", {}, el("tr", {},
      el("th", {}, allBox),
      header("id", "id"), header("name", "name"), header("experiment", "experiment"), header("status", "status"),
      header("start", "start_time"), header("duration", "duration", "num"),
      state.columns.map((key) => header(key, fieldKey("metrics", key), "num")))));
    const body = el("tbody");
    for (const run of state.runs) {
      const box = el("input", { type: "checkbox", checked: state.selected.has(run.id), "data-testid": "run-select",
        "aria-label": "select " + run.id });
      box.addEventListener("change", () => {
        box.checked ? state.selected.add(run.id) : state.selected.delete(run.id);
        updateButtons();
      });
      const link = (text) => el("a", { href: "#/run/" + encodeURIComponent(run.id) }, text);
      body.append(el("tr", { "data-testid": "run-row", "data-run-id": run.id, "data-run-name": run.name },
        el("td", {}, box),
        el("td", { class: "mono", title: run.id }, link(run.id)),
        el("td", {}, link(run.name)),
        el("td", {}, run.experiment),
        el("td", { title: run.error || "" }, statusBadge(run.status)),
        el("td", { class: "nowrap" }, formatTime(run.start_time)),
        el("td", { class: "num" }, formatDuration(run.duration)),
        state.columns.map((key) => {
          const m = run.metrics[key];
          return el("td", { class: "num", "data-testid": "metric-cell", "data-metric": key,
            title: m ? `last ${m.last} at step ${m.step}; min ${m.min}, max ${m.max}, ${m.count} points` : "" },
          m ? formatNumber(m.last) : "");
        })));
    }
    table.append(body);
    updateButtons();
  }

  let timer = null;
  async function load() {
    clearTimeout(timer);
    try {
      const result = await api.runs(state.where, state.sort);
      if (!ctx.alive()) return;
      filterError.hidden = true;
      state.runs = result.runs;
      state.metricKeys = result.metric_keys;
      if (state.columns === null) state.columns = defaultColumns(result.metric_keys);
      const ids = new Set(state.runs.map((r) => r.id));
      for (const id of [...state.selected]) if (!ids.has(id)) state.selected.delete(id);
      count.textContent = `${state.runs.length} of ${result.total} runs`;
      empty.hidden = state.runs.length > 0;
      empty.textContent = !result.store_exists
        ? "No runs yet: the store is created by the first `kiln train`."
        : state.where ? "No run matches the filter." : "No runs yet.";
      renderColumns();
      renderTable();
      // Running runs change under us: keep their status and metrics fresh.
      if (state.runs.some((r) => r.status === "RUNNING")) timer = setTimeout(load, REFRESH_MS);
    } catch (e) {
      if (!ctx.alive()) return;
      // 400 is a bad filter or sort: the server's message points at the column.
      filterError.textContent = e.status === 400 ? e.message : `cannot list runs: ${e.message}`;
      filterError.hidden = false;
    }
  }

  load();
  return () => clearTimeout(timer);
}
