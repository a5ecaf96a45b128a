// Collapsible trees: the config (params, grouped by dotted prefix) and any
// JSON value (the manifest). Built from <details>, so they fold without
// script and the browser's find-in-page opens closed branches.
import { el } from "./dom.js";

function valueText(value) {
  if (value === null) return "null";
  if (typeof value === "string") return JSON.stringify(value);
  return String(value);
}

function valueClass(value) {
  return "value value-" + (value === null ? "null" : typeof value);
}

// params: [{key: "optimizer.lr", type, value}] -> nested nodes by dotted
// prefix. A key that is both a leaf and a prefix (rare) keeps both.
function buildTree(params) {
  const root = { children: new Map(), leaves: [] };
  for (const param of params) {
    const parts = param.key.split(".");
    let node = root;
    for (const part of parts.slice(0, -1)) {
      if (!node.children.has(part)) node.children.set(part, { children: new Map(), leaves: [] });
      node = node.children.get(part);
    }
    node.leaves.push({ name: parts[parts.length - 1], param });
  }
  return root;
}

function leafCount(node) {
  let n = node.leaves.length;
  for (const child of node.children.values()) n += leafCount(child);
  return n;
}

function renderNode(node, prefix, depth) {
  const items = [];
  for (const { name, param } of node.leaves)
    items.push(el("div", { class: "leaf", "data-testid": "param", "data-key": param.key, title: param.type },
      el("span", { class: "key" }, name), " ", el("span", { class: valueClass(param.value) }, valueText(param.value))));
  for (const [name, child] of node.children) {
    const path = prefix ? `${prefix}.${name}` : name;
    items.push(el("details", { open: depth === 0, "data-testid": "param-group", "data-prefix": path },
      el("summary", {}, el("span", { class: "key" }, name), " ", el("span", { class: "muted" }, `(${leafCount(child)})`)),
      el("div", { class: "children" }, renderNode(child, path, depth + 1))));
  }
  return items;
}

// The config tree with a key filter and expand/collapse-all.
export function configTree(params) {
  if (!params.length) return el("p", { class: "muted" }, "No config recorded.");
  const tree = el("div", { class: "tree", "data-testid": "config-tree" }, renderNode(buildTree(params), "", 0));
  const setOpen = (open) => tree.querySelectorAll("details").forEach((d) => (d.open = open));
  const filter = el("input", { type: "search", placeholder: "filter keys (optimizer.lr)", "data-testid": "config-filter" });
  filter.addEventListener("input", () => {
    const text = filter.value.trim().toLowerCase();
    for (const leaf of tree.querySelectorAll(".leaf")) leaf.hidden = text !== "" && !leaf.dataset.key.toLowerCase().includes(text);
    for (const group of [...tree.querySelectorAll("details")].reverse()) {
      const visible = group.querySelector(".leaf:not([hidden])") !== null;
      group.hidden = !visible;
      if (text) group.open = visible;
    }
  });
  return el("div", {},
    el("div", { class: "tree-tools" }, filter,
      el("button", { type: "button", onclick: () => setOpen(true) }, "Expand all"),
      el("button", { type: "button", onclick: () => setOpen(false) }, "Collapse all")),
    tree);
}

function jsonNode(value, label, depth) {
  const isContainer = value !== null && typeof value === "object";
  if (!isContainer)
    return el("div", { class: "leaf" }, label !== null ? [el("span", { class: "key" }, label), " "] : null,
      el("span", { class: valueClass(value) }, valueText(value)));
  const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v]) : Object.entries(value);
  const brackets = Array.isArray(value) ? `[${entries.length}]` : `{${entries.length}}`;
  return el("details", { open: depth === 0 },
    el("summary", {}, label !== null ? el("span", { class: "key" }, label) : null, " ", el("span", { class: "muted" }, brackets)),
    el("div", { class: "children" }, entries.map(([k, v]) => jsonNode(v, k, depth + 1))));
}

export function jsonTree(value, label, testid) {
  return el("div", { class: "tree", "data-testid": testid }, jsonNode(value, label, 0));
}
