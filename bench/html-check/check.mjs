// Opens REPORT/index.html in Debian's Chromium through playwright-core and fails on any
// console error, page error, failed request, or <img> that did not decode (a missing chart).
import { chromium } from "playwright-core";
import path from "node:path";
import fs from "node:fs";
import { fileURLToPath } from "node:url";

const dir = process.argv[2];
if (!dir) {
  console.error("usage: node check.mjs REPORT_DIR");
  process.exit(2);
}
// A folder's index.html, or the page named.
const url = "file://" + (dir.endsWith(".html") ? path.resolve(dir) : path.resolve(dir, "index.html"));
const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const problems = [];
const page = await browser.newPage();
page.on("console", (m) => { if (m.type() === "error") problems.push(`console: ${m.text()}`); });
page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
page.on("requestfailed", (r) => problems.push(`failed: ${r.url()} (${r.failure()?.errorText})`));
await page.goto(url, { waitUntil: "load" });
const images = await page.$$eval("img", (imgs) =>
  imgs.map((i) => ({ src: i.getAttribute("src"), ok: i.complete && i.naturalWidth > 0 })));
for (const i of images) if (!i.ok) problems.push(`chart did not load: ${i.src}`);
// Inline charts: each <svg> must lay out with a size.
const svgs = await page.$$eval("svg", (ss) => ss.map((s) => s.getBoundingClientRect().width > 0));
svgs.forEach((ok, i) => { if (!ok) problems.push(`inline chart ${i} has no size`); });
// Links to files beside the page must load.
const links = await page.$$eval("a[href]", (as) => as.map((a) => a.href).filter((h) => h.startsWith("file:")));
for (const l of links) {
  if (!fs.existsSync(fileURLToPath(l.split("#")[0]))) problems.push(`link to a missing file: ${l}`);
}
const title = await page.textContent("h1");
await browser.close();
if (problems.length) {
  console.error(`FAIL ${url}\n  ` + problems.join("\n  "));
  process.exit(1);
}
console.log(`ok: ${url} ("${title}") rendered ${images.length} chart images and ${svgs.length} inline charts, ${links.length} file links exist, no console errors`);
