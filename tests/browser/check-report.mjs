// Loads the fleet report's HTML page in Debian's chromium (headless, through playwright-core) and
// checks it as a person would see it. Usage:
//   node check-report.mjs <report.html> <report.json> <out-dir> [--hostile]
// Fails (exit 1) on any console error, page error, dialog, or request other than the page itself;
// checks the numbers in the DOM against the JSON report of the same input; sorts and filters the
// tables; prints to PDF; takes a full-page screenshot and checks it is not blank.
import { chromium } from "playwright-core";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";

const [htmlPath, jsonPath, outDir] = process.argv.slice(2);
const hostile = process.argv.includes("--hostile");
if (!htmlPath || !jsonPath || !outDir) {
  console.error("usage: node check-report.mjs <report.html> <report.json> <out-dir> [--hostile]");
  process.exit(2);
}
const report = JSON.parse(readFileSync(jsonPath, "utf8"));
const pageUrl = pathToFileURL(resolve(htmlPath)).href;
const problems = [];
const fail = (what) => problems.push(what.length > 400 ? what.slice(0, 400) + "…" : what);
const check = (ok, what) => { if (!ok) fail(what); };
const equal = (got, want, what) => check(got === want, `${what}: page shows ${JSON.stringify(got)}, JSON says ${JSON.stringify(want)}`);

const profile = mkdtempSync(join(tmpdir(), "eam-chromium-"));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.EAM_CHROMIUM || "/usr/bin/chromium",
  headless: true,
  viewport: { width: 1400, height: 1000 },
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
try {
  const page = await context.newPage();
  // A hang guard, not a speed bound: a loaded 2-core CI machine can take seconds per action.
  page.setDefaultTimeout(60000);
  page.on("console", (m) => { if (m.type() === "error" || m.type() === "warning") fail(`console ${m.type()}: ${m.text()}`); });
  page.on("pageerror", (e) => fail(`page error: ${e.message}`));
  page.on("dialog", async (d) => { fail(`dialog opened: ${d.message()}`); await d.dismiss(); });
  page.on("requestfailed", (r) => { if (r.url() !== pageUrl) fail(`request failed: ${r.url()}`); });
  await page.route("**/*", (route) => {
    const url = route.request().url();
    if (url === pageUrl) return route.continue();
    fail(`request attempted: ${url}`);
    return route.abort();
  });
  // The page's one script is inline at the end of <body>: it has run when "load" fires.
  await page.goto(pageUrl, { waitUntil: "load" });

  await checkNumbers(page);
  if (!hostile) {
    await checkSorting(page);
    await checkFiltering(page);
  } else {
    await checkHostileText(page);
  }
  await page.evaluate(() => window.scrollTo(0, 0));
  const shot = await page.screenshot({ path: join(outDir, hostile ? "hostile.png" : "report.png"), fullPage: true });
  await page.emulateMedia({ media: "print" });
  equal(await page.$eval("nav.toc", (n) => getComputedStyle(n).display), "none", "print layout hides the navigation");
  if (!hostile) await page.pdf({ path: join(outDir, "report.pdf"), format: "A4", landscape: true, printBackground: true });
  await page.emulateMedia({ media: "screen" });
  await checkNotBlank(shot);
} catch (e) {
  fail(`the check itself failed: ${e.message.split("\n")[0]}`);
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}

async function checkNumbers(page) {
  const h = report.headline;
  const cards = {
    clusters: h.clusters, api: h.on_access_entries.api.clusters,
    api_and_config_map: h.on_access_entries.api_and_config_map.clusters,
    config_map: h.authentication_modes.config_map, blocked_clusters: h.blocked_clusters,
    without_inventory: h.without_inventory, with_access: h.principals.with_access,
    cluster_admins: h.principals.cluster_admins, other_account: h.principals.other_account,
    iam_not_found: h.principals.iam_not_found, failed_scans: h.failed_scans,
    not_seen_by_latest_scan: h.not_seen_by_latest_scan, unreadable: h.unreadable,
  };
  for (const [metric, want] of Object.entries(cards)) {
    const got = await page.$eval(`[data-metric="${metric}"] .n`, (n) => Number(n.textContent)).catch(() => NaN);
    equal(got, want, `card ${metric}`);
  }
  const bars = async (id) => page.$$eval(`#${id} g.bar`, (gs) => gs.map((g) => [g.getAttribute("data-label"), Number(g.getAttribute("data-count")), g.querySelector("text.count").textContent]));
  const auth = h.authentication_modes;
  equal(JSON.stringify(await bars("chart-auth")), JSON.stringify([["CONFIG_MAP", auth.config_map, String(auth.config_map)], ["API_AND_CONFIG_MAP", auth.api_and_config_map, String(auth.api_and_config_map)], ["API", auth.api, String(auth.api)], ["not observed", auth.unknown, String(auth.unknown)]]), "authentication-mode chart");
  equal(JSON.stringify(await bars("chart-phases")), JSON.stringify(h.phases.map((p) => [p.phase, p.clusters, String(p.clusters)])), "phase chart");
  equal(JSON.stringify(await bars("chart-modes")), JSON.stringify(Object.entries(h.modes).map(([m, n]) => [m, n, String(n)])), "mode chart");
  equal(JSON.stringify(await bars("chart-blockers")), JSON.stringify(report.blockers.map((b) => [b.code, b.clusters, String(b.clusters)])), "blocker chart");
  const groups = await page.$$eval("h3.blocker", (hs) => hs.map((x) => [x.getAttribute("data-code"), Number(x.getAttribute("data-clusters")), Number(x.getAttribute("data-findings"))]));
  equal(JSON.stringify(groups), JSON.stringify(report.blockers.map((b) => [b.code, b.clusters, b.findings])), "blocker groups, in order");
  const rows = async (id) => page.$$eval(`#${id} tbody tr`, (r) => r.length).catch(() => 0);
  equal(await rows("t-clusters"), report.clusters.length, "cluster rows");
  equal(await rows("t-access"), h.principals.grants, "access rows (principal × cluster)");
  equal(await rows("t-admins"), report.access.cluster_admins.length, "cluster-admin rows");
  equal(await rows("t-other-account"), report.access.other_account.length, "other-account rows");
  equal(await rows("t-iam-not-found"), report.access.iam_not_found.length, "IAM-not-found rows");
  equal(await rows("t-scans"), report.scans.account_regions.length, "scan rows");
  equal(await rows("t-unreadable"), report.unreadable.length, "unreadable rows");
  const names = await page.$$eval("#t-clusters tbody tr", (r) => r.map((x) => x.cells[2].textContent));
  equal(JSON.stringify(names), JSON.stringify(report.clusters.map((c) => c.name)), "cluster names, in report order");
  const arns = await page.$$eval("#t-access tbody tr", (r) => r.map((x) => x.cells[0].textContent));
  const wantArns = report.access.principals.flatMap((p) => p.clusters.map(() => p.principal_arn));
  equal(JSON.stringify(arns), JSON.stringify(wantArns), "access rows' principals (full ARNs), in report order");
  equal(await page.textContent('[data-count-for="t-clusters"]'), `${report.clusters.length} of ${report.clusters.length} rows`, "cluster row count label");
}

async function checkSorting(page) {
  // Columns by their header, so that a column added to the table moves nothing here.
  const headers = await page.$$eval("#t-clusters thead th", (h) => h.map((x) => x.textContent));
  const column = (name) => {
    const i = headers.indexOf(name);
    if (i < 0) throw new Error(`the clusters table has no "${name}" column: ${JSON.stringify(headers)}`);
    return i;
  };
  const [name, blockerCount] = [column("cluster"), column("blockers")];
  const names = () => page.$$eval("#t-clusters tbody tr", (r, i) => r.map((x) => x.cells[i].textContent), name);
  const header = (i) => page.locator("#t-clusters thead th").nth(i);
  const byText = (a, b) => (a.toLowerCase() < b.toLowerCase() ? -1 : a.toLowerCase() > b.toLowerCase() ? 1 : 0);
  const sorted = report.clusters.map((c) => c.name).sort(byText);
  await header(name).click();
  equal(JSON.stringify(await names()), JSON.stringify(sorted), "clusters sorted by name, ascending");
  equal(await header(name).getAttribute("aria-sort"), "ascending", "sorted header marked ascending");
  await header(name).click();
  equal(JSON.stringify(await names()), JSON.stringify([...sorted].reverse()), "clusters sorted by name, descending");
  await header(blockerCount).click();
  const blockers = await page.$$eval("#t-clusters tbody tr", (r, i) => r.map((x) => Number(x.cells[i].getAttribute("data-sort") ?? x.cells[i].textContent)), blockerCount);
  const want = report.clusters.map((c) => c.blockers).sort((a, b) => a - b);
  equal(JSON.stringify(blockers), JSON.stringify(want), "clusters sorted by blockers, numerically");
  await header(0).focus();
  await page.keyboard.press("Enter");
  equal(await header(0).getAttribute("aria-sort"), "ascending", "a header sorts from the keyboard");
}

async function checkFiltering(page) {
  const visible = (id) => page.$$eval(`#${id} tbody tr`, (r) => r.filter((x) => !x.hidden).map((x) => x.textContent));
  const target = report.clusters[report.clusters.length - 1];
  await page.fill('input[data-filter="t-clusters"]', target.name.toUpperCase());
  const shown = await visible("t-clusters");
  const want = report.clusters.filter((c) => JSON.stringify(c).toLowerCase().includes(target.name.toLowerCase())).length;
  check(shown.length >= 1 && shown.every((t) => t.toLowerCase().includes(target.name.toLowerCase())), `filter keeps only rows with ${target.name}: ${shown.length} shown`);
  check(shown.length <= want, `filter shows ${shown.length} rows, at most ${want} expected`);
  equal(await page.textContent('[data-count-for="t-clusters"]'), `${shown.length} of ${report.clusters.length} rows`, "count label after filtering");
  const admin = report.access.principals.find((p) => p.cluster_admin_on > 0);
  if (admin) {
    await page.fill('input[data-filter="t-access"]', admin.principal_arn);
    equal((await visible("t-access")).length, admin.cluster_count, `access rows for ${admin.principal_arn}`);
    await page.fill('input[data-filter="t-access"]', "");
    equal((await visible("t-access")).length, report.headline.principals.grants, "every access row after clearing the filter");
  }
  await page.fill('input[data-filter="t-clusters"]', "no cluster is called this");
  equal((await visible("t-clusters")).length, 0, "a filter matching nothing hides every row");
  await page.fill('input[data-filter="t-clusters"]', "");
  equal((await visible("t-clusters")).length, report.clusters.length, "clearing the filter shows every row");
}

async function checkHostileText(page) {
  const scripts = await page.$$eval("script", (s) => s.length);
  equal(scripts, 1, "script elements (only the page's own)");
  const images = await page.$$eval("img, iframe, object, embed, link", (s) => s.length);
  equal(images, 0, "img/iframe/object/embed/link elements");
  const body = await page.textContent("body");
  for (const c of report.clusters) check(body.includes(c.name), `cluster name shown as text: ${c.name}`);
  for (const p of report.access.principals) check(body.includes(p.principal_arn), `principal shown as text: ${p.principal_arn}`);
}

async function checkNotBlank(png) {
  const viewer = await context.newPage();
  const stats = await viewer.evaluate(async (b64) => {
    const img = new Image();
    img.src = "data:image/png;base64," + b64;
    await img.decode();
    const canvas = document.createElement("canvas");
    canvas.width = img.width; canvas.height = img.height;
    const g = canvas.getContext("2d");
    g.drawImage(img, 0, 0);
    const d = g.getImageData(0, 0, img.width, img.height).data;
    let sum = 0, sum2 = 0, ink = 0, n = 0;
    for (let i = 0; i < d.length; i += 4) {
      const y = 0.299 * d[i] + 0.587 * d[i + 1] + 0.114 * d[i + 2];
      sum += y; sum2 += y * y; n++;
      if (y < 200) ink++;
    }
    const mean = sum / n;
    return { width: img.width, height: img.height, stddev: Math.sqrt(sum2 / n - mean * mean), ink: ink / n };
  }, png.toString("base64"));
  await viewer.close();
  console.log(`screenshot ${stats.width}×${stats.height}: luminance σ ${stats.stddev.toFixed(1)}, ${(stats.ink * 100).toFixed(1)}% dark pixels`);
  check(stats.stddev > 20, `screenshot looks blank (luminance σ ${stats.stddev.toFixed(1)} ≤ 20)`);
  check(stats.ink > 0.03, `screenshot looks blank (${(stats.ink * 100).toFixed(1)}% dark pixels ≤ 3%)`);
}

writeFileSync(join(outDir, hostile ? "hostile-result.txt" : "result.txt"), problems.length ? problems.join("\n") + "\n" : "ok\n");
if (problems.length) {
  console.error(`${problems.length} problem(s) with ${htmlPath}:\n  ` + problems.join("\n  "));
  process.exit(1);
}
console.log(`${htmlPath}: every check passed (numbers, ${hostile ? "hostile values inert" : "sorting, filtering"}, print layout, screenshot)`);
