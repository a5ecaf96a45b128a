// The dashboard in a real browser: Debian's chromium, headless, driven by
// playwright-core against a `kiln ui` serving two real training runs
// (tests/e2e/ui_dashboard.sh trains them and starts the server).
//
// env: KILN_UI_URL            the URL `kiln ui` printed (http://127.0.0.1:PORT/)
//      KILN_UI_NODE_MODULES   where `npm ci` put playwright-core
//      KILN_CHROMIUM          the browser (default /usr/bin/chromium)
//      KILN_UI_TRAIN_POINTS   train/loss points each run logged (default 12)
//      KILN_UI_SCREENSHOT     if set, a PNG of the run page of `base` is written there
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import path from "node:path";

const require = createRequire(path.join(process.env.KILN_UI_NODE_MODULES, "noop.js"));
const { chromium } = require("playwright-core");

const base = process.env.KILN_UI_URL.replace(/\/?(\?.*)?$/, "/");
const trainPoints = String(process.env.KILN_UI_TRAIN_POINTS || 12);
const checks = [];

async function check(name, body) {
  const started = Date.now();
  await body();
  checks.push(name);
  console.log(`ok   ${name} (${Date.now() - started} ms)`);
}

// The API's own count, so "as stored" is checked against the store, not
// only against the number the test expects.
async function storedCount(run, key) {
  const response = await fetch(`${base}api/runs/${run}/metrics/${key}?max_points=100000`);
  assert.equal(response.status, 200, `GET metrics/${key} of ${run}`);
  return (await response.json()).count;
}

async function selectRuns(page, names) {
  await page.goto(base + "#/");
  await page.locator('[data-testid="run-row"]').first().waitFor();
  for (const name of names) await page.locator(`[data-testid="run-row"][data-run-name="${name}"] [data-testid="run-select"]`).check();
}

const browser = await chromium.launch({
  executablePath: process.env.KILN_CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-dev-shm-usage"],
});
const page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
page.setDefaultTimeout(15000);
// A script error anywhere fails the test, even when the page still renders.
const pageErrors = [];
page.on("pageerror", (error) => pageErrors.push(String(error)));
// A 400 for the bad filter is expected; chromium logs every non-2xx fetch.
page.on("console", (message) => {
  if (message.type() === "error" && !message.text().startsWith("Failed to load resource"))
    pageErrors.push("console: " + message.text());
});

try {
  await check("runs table lists both runs", async () => {
    await page.goto(base + "#/");
    const rows = page.locator('[data-testid="run-row"]');
    await rows.nth(1).waitFor();
    assert.equal(await rows.count(), 2);
    const names = await rows.evaluateAll((trs) => trs.map((tr) => tr.dataset.runName).sort());
    assert.deepEqual(names, ["base", "fast"]);
    assert.equal(await page.locator('[data-testid="run-row"] [data-testid="status"]').first().textContent(), "FINISHED");
  });

  await check("filter box sends `where`; a bad expression shows the API's error", async () => {
    await page.fill('[data-testid="filter-input"]', "params.optimizer.lr > 0.002");
    await page.click('[data-testid="filter-apply"]');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="run-row"]').length === 1);
    assert.equal(await page.locator('[data-testid="run-row"]').getAttribute("data-run-name"), "fast");
    await page.fill('[data-testid="filter-input"]', "metrics.val/acc > nonsense");
    await page.click('[data-testid="filter-apply"]');
    const error = page.locator('[data-testid="filter-error"]');
    await error.waitFor({ state: "visible" });
    assert.match(await error.textContent(), /--where/);
  });

  await check("sorting by name sends `sort`", async () => {
    await page.fill('[data-testid="filter-input"]', "");
    await page.click('[data-testid="filter-apply"]');
    await page.locator('[data-testid="run-row"]').nth(1).waitFor();
    const order = () => page.locator('[data-testid="run-row"]').evaluateAll((trs) => trs.map((tr) => tr.dataset.runName));
    await page.click('[data-testid="sort-header"][data-sort-field="name"]');
    await page.waitForFunction(() => location.hash.includes("sort=name"));
    await page.waitForFunction(() => document.querySelector('[data-testid="run-row"]')?.dataset.runName === "base");
    assert.deepEqual(await order(), ["base", "fast"]);
    await page.click('[data-testid="sort-header"][data-sort-field="name"]');
    await page.waitForFunction(() => document.querySelector('[data-testid="run-row"]')?.dataset.runName === "fast");
    assert.deepEqual(await order(), ["fast", "base"]);
  });

  await check(`run page of base draws train/loss with ${trainPoints} points, as stored`, async () => {
    assert.equal(String(await storedCount("base", "train/loss")), trainPoints);
    await page.goto(base + "#/");
    await page.locator('[data-testid="run-row"][data-run-name="base"] a').last().click();
    const chart = page.locator('[data-testid="chart"][data-metric="train/loss"][data-points]');
    await chart.waitFor();
    assert.equal(await chart.getAttribute("data-points"), trainPoints);
    assert.equal(await chart.getAttribute("data-series"), "1");
    assert.ok((await chart.locator("canvas").count()) >= 1, "uPlot drew a canvas");
    // The record, the config tree and the manifest are there too.
    assert.equal(await page.locator('[data-testid="run-record"] [data-testid="status"]').textContent(), "FINISHED");
    assert.match(await page.locator('[data-testid="param"][data-key="optimizer.lr"]').textContent(), /0\.001/);
    await page.locator('[data-testid="manifest"]').waitFor();
    assert.ok((await page.locator('[data-testid="artifact-link"]').count()) > 0, "artifacts listed");
  });

  await check("the wall-time x axis draws the same points", async () => {
    await page.click('[data-testid="x-axis-time"]');
    const chart = page.locator('[data-testid="chart"][data-metric="train/loss"][data-x="time"]');
    await chart.waitFor();
    assert.equal(await chart.getAttribute("data-points"), trainPoints);
    await page.click('[data-testid="x-axis-step"]');
    await page.locator('[data-testid="chart"][data-metric="train/loss"][data-x="step"]').waitFor();
  });

  await check("an artifact link downloads the run's file", async () => {
    const href = await page.locator('[data-testid="artifact-link"]').first().getAttribute("href");
    const response = await fetch(new URL(href, base));
    assert.equal(response.status, 200, href);
    const escape = await fetch(`${base}api/runs/base/artifacts/..%2F..%2Fkiln.db`);
    assert.equal(escape.status, 403, "a path outside the run directory is refused");
  });

  if (process.env.KILN_UI_SCREENSHOT) {
    await page.goto(base + "#/run/base");
    await page.locator('[data-testid="chart"][data-metric="val/loss"][data-points]').waitFor();
    await page.locator('[data-testid="chart"][data-metric="train/loss"][data-points]').waitFor();
    await page.screenshot({ path: process.env.KILN_UI_SCREENSHOT });
    console.log(`screenshot: ${process.env.KILN_UI_SCREENSHOT}`);
  }

  await check("compare overlays train/loss of two runs", async () => {
    await selectRuns(page, ["base", "fast"]);
    await page.click('[data-testid="compare-button"]');
    await page.locator('[data-testid="metric-select"] option').first().waitFor({ state: "attached" });
    await page.selectOption('[data-testid="metric-select"]', "train/loss");
    const chart = page.locator('[data-testid="compare-chart"][data-metric="train/loss"][data-series="2"]');
    await chart.waitFor();
    assert.equal(await chart.getAttribute("data-points"), `${trainPoints},${trainPoints}`);
    assert.equal(await page.locator('[data-testid="compare-row"]').count(), 2);
  });

  await check("diff shows optimizer.lr 0.001 -> 0.003", async () => {
    await selectRuns(page, ["base", "fast"]);
    await page.click('[data-testid="diff-button"]');
    const row = page.locator('[data-testid="diff-param"][data-key="optimizer.lr"]');
    await row.waitFor();
    assert.equal((await row.locator('[data-testid="diff-a"]').textContent()).trim(), "0.001");
    assert.equal((await row.locator('[data-testid="diff-b"]').textContent()).trim(), "0.003");
    assert.ok((await page.locator('[data-testid="diff-metric"][data-key="train/loss"]').count()) === 1);
  });

  assert.deepEqual(pageErrors, [], "no script errors in the page");
  console.log(`dashboard e2e: ${checks.length} checks passed`);
} finally {
  await browser.close();
}
