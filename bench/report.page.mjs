// Opens a wf report page in headless Chromium (Debian's chromium, through
// puppeteer-core) and prints how usable it is: time to load, time to the
// first contentful paint, DOM nodes, and how long a filter (hiding every
// succeeded row, then showing them again) takes. Median of 5 loads.
//
//   node bench/report.page.mjs <page.html> [chromium path]
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { launch } from "puppeteer-core";

const [page = "", browserArg] = process.argv.slice(2);
const executablePath = browserArg ?? [process.env.CHROMIUM, "/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p) => p && existsSync(p));
if (page === "" || executablePath === undefined) {
  console.error(page === "" ? "usage: node bench/report.page.mjs <page.html> [chromium]" : "no Chromium found: apt-get install -y chromium");
  process.exit(2);
}
const browser = await launch({ executablePath, headless: true, args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"] });
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const loads = [];
const paints = [];
const filters = [];
let nodes = 0;
try {
  for (let i = 0; i < 5; i++) {
    const tab = await browser.newPage();
    await tab.setViewport({ width: 1280, height: 900 });
    const start = Date.now();
    await tab.goto(pathToFileURL(resolve(page)).href, { waitUntil: "load" });
    loads.push(Date.now() - start);
    paints.push(await tab.evaluate(() => performance.getEntriesByName("first-contentful-paint")[0]?.startTime ?? NaN));
    nodes = await tab.evaluate(() => document.getElementsByTagName("*").length);
    filters.push(await tab.evaluate(() => {
      const box = document.querySelector('#filters input[value="succeeded"]');
      const t0 = performance.now();
      box.click();
      document.body.getBoundingClientRect(); // Layout, as a person would wait for it.
      box.click();
      document.body.getBoundingClientRect();
      return performance.now() - t0;
    }));
    await tab.close();
  }
} finally {
  await browser.close();
}
console.log(`  load ${median(loads)} ms, first contentful paint ${Math.round(median(paints))} ms, ${nodes} DOM elements, a filter off and on ${Math.round(median(filters))} ms (medians of 5)`);
