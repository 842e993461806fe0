// Opens a report page in Debian's Chromium through playwright-core and fails on any console
// error, page error, failed request, <img> that did not decode (a missing chart), link to a
// missing file, or two <text> labels of one chart (inline <svg> or linked .svg) that overlap.
// With --shots DIR it saves a full-page PNG of the page and one PNG per chart into DIR.
import { chromium } from "playwright-core";
import path from "node:path";
import fs from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";

const args = process.argv.slice(2);
let shots = null;
const i = args.indexOf("--shots");
if (i >= 0) {
  shots = args[i + 1];
  args.splice(i, 2);
}
const dir = args[0];
if (!dir || (i >= 0 && !shots)) {
  console.error("usage: node check.mjs DIR_OR_PAGE.html [--shots DIR]");
  process.exit(2);
}
// A folder's index.html, or the page named.
const file = dir.endsWith(".html") ? path.resolve(dir) : path.resolve(dir, "index.html");
const url = pathToFileURL(file).href;
const stem = path.basename(path.dirname(file)) + "-" + path.basename(file, ".html");
if (shots) fs.mkdirSync(shots, { recursive: true });

const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const problems = [];
const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
page.on("console", (m) => { if (m.type() === "error") problems.push(`console: ${m.text()}`); });
page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
page.on("requestfailed", (r) => problems.push(`failed: ${r.url()} (${r.failure()?.errorText})`));
await page.goto(url, { waitUntil: "load" });
const images = await page.$$eval("img", (imgs) =>
  imgs.map((i) => ({ src: i.getAttribute("src"), href: i.src, ok: i.complete && i.naturalWidth > 0 })));
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

// The boxes of every non-empty <text> of each <svg> in the document, as laid out (rotation
// included); pairs that overlap by more than a pixel each way are reported with their text.
async function overlaps(p, where) {
  const found = await p.$$eval("svg", (ss) => ss.map((s) => {
    const boxes = [...s.querySelectorAll("text")]
      .filter((t) => t.textContent.trim() !== "")
      .map((t) => ({ text: t.textContent.trim(), r: t.getBoundingClientRect() }));
    const out = [];
    for (let a = 0; a < boxes.length; a++) {
      for (let b = a + 1; b < boxes.length; b++) {
        const p = boxes[a].r, q = boxes[b].r;
        const w = Math.min(p.right, q.right) - Math.max(p.left, q.left);
        const h = Math.min(p.bottom, q.bottom) - Math.max(p.top, q.top);
        if (w > 1 && h > 1) out.push(`"${boxes[a].text}" and "${boxes[b].text}"`);
      }
    }
    return { labels: boxes.length, out };
  }));
  let labels = 0;
  found.forEach((f, n) => {
    labels += f.labels;
    for (const o of f.out) problems.push(`overlapping labels in ${where} chart ${n}: ${o}`);
  });
  return labels;
}
let labels = await overlaps(page, "inline");
if (shots) {
  await page.screenshot({ path: path.join(shots, `${stem}.png`), fullPage: true });
  // Each inline chart on its own, at its drawn size.
  const handles = await page.$$("svg");
  for (const [n, h] of handles.entries()) {
    await h.screenshot({ path: path.join(shots, `${stem}-svg${n}.png`) });
  }
}
// Linked charts: opened on their own to measure their labels (and to screenshot them).
const seen = new Set();
for (const im of images.filter((i) => i.href.startsWith("file:") && i.href.endsWith(".svg"))) {
  if (seen.has(im.href)) continue;
  seen.add(im.href);
  const p = await browser.newPage();
  await p.goto(im.href, { waitUntil: "load" });
  labels += await overlaps(p, im.src);
  if (shots) {
    const svg = await p.$("svg");
    if (svg) await svg.screenshot({ path: path.join(shots, `${stem}-${path.basename(im.src, ".svg")}.png`) });
  }
  await p.close();
}
await browser.close();
if (problems.length) {
  console.error(`FAIL ${url}\n  ` + problems.join("\n  "));
  process.exit(1);
}
console.log(`ok: ${url} ("${title}") rendered ${images.length} chart images and ${svgs.length} inline charts, ` +
  `${links.length} file links exist, ${labels} chart labels without overlaps, no console errors` +
  (shots ? `; screenshots in ${shots}` : ""));
