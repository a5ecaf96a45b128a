// The dashboard's entry point: a hash router over four pages.
//   #/                                runs table (runs_page.js)
//   #/run/<run>                       one run (run_page.js)
//   #/compare?runs=a,b,...&metric=k   one metric of several runs (compare_page.js)
//   #/diff?a=<run>&b=<run>            what differs between two runs (diff_page.js)
// A page is render(root, query, page) -> cleanup; `page.alive()` turns false
// once the user navigates away, so a page's timers and late fetches stop.
import { api } from "./api.js";
import { clear, errorBox } from "./dom.js";
import { renderRunsPage } from "./runs_page.js";
import { renderRunPage } from "./run_page.js";
import { renderComparePage } from "./compare_page.js";
import { renderDiffPage } from "./diff_page.js";

const root = document.getElementById("app");
let current = null;

// "#/run/abc?x=1" -> {path: ["run", "abc"], query: URLSearchParams("x=1")}
export function parseHash(hash) {
  const text = hash.replace(/^#/, "") || "/";
  const q = text.indexOf("?");
  const path = (q < 0 ? text : text.slice(0, q)).split("/").filter(Boolean).map(decodeURIComponent);
  return { path, query: new URLSearchParams(q < 0 ? "" : text.slice(q + 1)) };
}

function route() {
  if (current) {
    current.alive = false;
    if (current.cleanup) current.cleanup();
  }
  const page = { alive: true };
  current = page;
  const ctx = { alive: () => page.alive };
  clear(root);
  const { path, query } = parseHash(location.hash);
  try {
    let cleanup;
    if (path.length === 0) cleanup = renderRunsPage(root, query, ctx);
    else if (path[0] === "run" && path.length >= 2) cleanup = renderRunPage(root, path.slice(1).join("/"), query, ctx);
    else if (path[0] === "compare") cleanup = renderComparePage(root, query, ctx);
    else if (path[0] === "diff") cleanup = renderDiffPage(root, query, ctx);
    else root.append(errorBox(`No page '${location.hash}'. `), Object.assign(document.createElement("a"), { href: "#/", textContent: "All runs" }));
    page.cleanup = cleanup;
  } catch (e) {
    root.append(errorBox(String(e && e.message ? e.message : e)));
  }
  window.scrollTo(0, 0);
}

window.addEventListener("hashchange", route);
route();

api.status().then(
  (status) => {
    document.getElementById("store-path").textContent = status.store;
  },
  () => {},
);
