// The dashboard's calls to its JSON API (include/kiln/ui/dashboard.h).
// Every call carries the access token when the page was opened with one
// (`kiln ui --host 0.0.0.0` prints http://host:port/?token=...).

const TOKEN_KEY = "kiln-ui-token";

// The token is read once from the opening URL and kept for the tab, so hash
// navigation (which drops nothing, but reloads might) keeps working.
function accessToken() {
  const fromUrl = new URLSearchParams(location.search).get("token");
  if (fromUrl) sessionStorage.setItem(TOKEN_KEY, fromUrl);
  return fromUrl || sessionStorage.getItem(TOKEN_KEY) || "";
}

// An API error keeps the server's message ({"error": "..."}) and status, so
// pages can show "bad filter: ..." verbatim.
export class ApiError extends Error {
  constructor(message, status) {
    super(message);
    this.status = status;
  }
}

// Path segments are escaped one by one: metric keys contain "/", which the
// server joins back, but also characters ("?", "#", " ") that must not leak.
export function apiPath(...segments) {
  return "/api/" + segments.flatMap((s) => String(s).split("/")).map(encodeURIComponent).join("/");
}

export async function getJson(path, params = {}) {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params))
    if (value !== undefined && value !== null && value !== "") query.set(name, value);
  const url = path + (query.toString() ? "?" + query : "");
  const headers = {};
  const token = accessToken();
  if (token) headers.Authorization = "Bearer " + token;
  const response = await fetch(url, { headers, cache: "no-store" });
  let body = null;
  try {
    body = await response.json();
  } catch {
    throw new ApiError(`${url}: ${response.status} ${response.statusText} (not JSON)`, response.status);
  }
  if (!response.ok) throw new ApiError(body && body.error ? body.error : `${url}: ${response.status}`, response.status);
  return body;
}

// A link cannot send a header, so downloads carry the token in the query.
export function artifactUrl(run, path) {
  const token = accessToken();
  return apiPath("runs", run, "artifacts", path) + (token ? "?token=" + encodeURIComponent(token) : "");
}

export const api = {
  status: () => getJson("/api/status"),
  runs: (where, sort, limit) => getJson("/api/runs", { where, sort, limit }),
  run: (run) => getJson(apiPath("runs", run)),
  series: (run, key, system = false, maxPoints) =>
    getJson(apiPath("runs", run, "metrics", key), { system: system ? 1 : 0, max_points: maxPoints }),
  diff: (a, b) => getJson("/api/diff", { a, b }),
};
