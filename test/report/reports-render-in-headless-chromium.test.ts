/**
 * Each report opened in headless Chromium (Debian's `chromium` package,
 * driven by puppeteer-core, which downloads no browser): every chart is
 * laid out with drawn marks, nothing logs an error, the page runs no script
 * and asks for nothing outside its file, and a screenshot of the page is
 * not blank. With KGSHARD_SCREENSHOTS=DIR the screenshots are written to
 * DIR as report-train.png and report-loadtest.png (the README's:
 * `npm run screenshots`).
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import puppeteer, { type Browser } from 'puppeteer-core';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { writeLoadTestReport, writeTrainReport } from '../../src/report/file.js';
import { runLoadTest } from '../../src/router/loadtest.js';
import { tempDir } from '../cli/kgshard-cli.js';
import { LOADTEST_OPTIONS, trainForReport } from '../helpers/report-runs.js';

const CHROMIUM = '/usr/bin/chromium';
const WIDTH = 1000;

interface FigureSeen {
  id: string;
  rows: number;
  width: number;
  height: number;
  marks: number;
  visible: number;
}

interface PageSeen {
  scripts: number;
  scrollWidth: number;
  figures: FigureSeen[];
}

interface PixelStats {
  width: number;
  height: number;
  sd: number;
  colors: number;
}

/** In the page: each figure's SVG box and its drawn items (not axes or legends), those with a box that shows. */
const SEE_PAGE = `(() => {
  const figures = [...document.querySelectorAll('figure[data-chart]')].map((f) => {
    const svg = f.querySelector('svg');
    const box = svg ? svg.getBoundingClientRect() : { width: 0, height: 0 };
    const marks = svg
      ? [...svg.querySelectorAll('[role="graphics-symbol"]')].filter((e) => {
          const d = e.getAttribute('aria-roledescription');
          return d !== 'axis' && d !== 'legend';
        })
      : [];
    const visible = marks.filter((e) => {
      const b = e.getBoundingClientRect();
      return b.width + b.height > 0 && getComputedStyle(e).visibility !== 'hidden';
    });
    return { id: f.dataset.chart, rows: Number(f.dataset.rows), width: box.width, height: box.height,
      marks: marks.length, visible: visible.length };
  });
  return { scripts: document.scripts.length, scrollWidth: document.documentElement.scrollWidth, figures };
})()`;

/** In a blank page: decode a PNG (base64) on a canvas; the spread of its luminance and its count of colours. */
const pixelStats = (b64: string): string => `(async () => {
  const img = new Image();
  img.src = 'data:image/png;base64,${b64}';
  await img.decode();
  const c = document.createElement('canvas');
  c.width = img.width;
  c.height = img.height;
  const g = c.getContext('2d');
  g.drawImage(img, 0, 0);
  const d = g.getImageData(0, 0, c.width, c.height).data;
  let n = 0, s = 0, s2 = 0;
  const colors = new Set();
  for (let i = 0; i < d.length; i += 4 * 3) {
    const y = 0.299 * d[i] + 0.587 * d[i + 1] + 0.114 * d[i + 2];
    n++; s += y; s2 += y * y;
    colors.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]);
  }
  return { width: c.width, height: c.height, sd: Math.sqrt(s2 / n - (s / n) ** 2), colors: colors.size };
})()`;

let browser: Promise<Browser> | undefined;

/** The browser, started on first use; without Debian's chromium, a one-line error that says to install it. */
function chromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    const e = new Error(`${CHROMIUM} not found: install Debian's chromium package (apt-get install -y chromium)`);
    e.stack = e.message; // one line, no stack
    throw e;
  }
  browser ??= puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
  return browser;
}

test.after(async () => {
  await (await browser)?.close();
});

async function check(file: string, expected: readonly string[], name: string): Promise<void> {
  const b = await chromium();
  const page = await b.newPage();
  const errors: string[] = [];
  const requests: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warn') errors.push(`console.${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`page error: ${String(e)}`));
  page.on('requestfailed', (r) => errors.push(`request failed: ${r.url()}`));
  page.on('request', (r) => requests.push(r.url()));
  await page.setViewport({ width: WIDTH, height: 900 });
  const url = pathToFileURL(file).href;
  await page.goto(url, { waitUntil: 'load' });

  const seen = (await page.evaluate(SEE_PAGE)) as PageSeen;
  assert.is(seen.scripts, 0, 'no script');
  assert.ok(seen.scrollWidth <= WIDTH, `no horizontal scroll (${seen.scrollWidth}px)`);
  assert.equal(
    seen.figures.map((f) => f.id),
    [...expected],
  );
  for (const f of seen.figures) {
    assert.ok(f.rows > 0, `${f.id}: has data`);
    assert.ok(f.width > 200 && f.height > 100, `${f.id}: laid out at ${f.width}x${f.height}`);
    assert.ok(f.visible > 0 && f.visible === f.marks, `${f.id}: ${f.visible} of ${f.marks} marks drawn`);
  }

  const png = await page.screenshot({ type: 'png', fullPage: true });
  await page.close();
  assert.equal(errors, []);
  assert.equal(requests, [url], 'the page asks for nothing but itself');

  const blank = await b.newPage();
  const stats = (await blank.evaluate(pixelStats(Buffer.from(png).toString('base64')))) as PixelStats;
  await blank.close();
  assert.is(stats.width, WIDTH);
  assert.ok(stats.height > 900, `full page (${stats.height}px)`);
  assert.ok(stats.sd > 10 && stats.colors > 100, `not blank: luminance sd ${stats.sd}, ${stats.colors} colours`);

  const docs = process.env['KGSHARD_SCREENSHOTS'];
  if (docs !== undefined && docs !== '') {
    mkdirSync(resolve(docs), { recursive: true });
    writeFileSync(join(resolve(docs), `report-${name}.png`), png);
  }
}

test('the train report renders every chart with data, no error, and a screenshot that is not blank', async () => {
  await chromium();
  const file = join(tempDir('browser'), 'train.html');
  await writeTrainReport(file, await trainForReport(), { command: 'kgshard train --model complex --dim 16 ...' });
  await check(
    file,
    ['loss', 'validation', 'throughput', 'per-relation', 'rank-histogram', 'staleness', 'checkpoints'],
    'train',
  );
});

test('the load-test report renders every chart with data, no error, and a screenshot that is not blank', async () => {
  await chromium();
  const file = join(tempDir('browser'), 'loadtest.html');
  const options = { ...LOADTEST_OPTIONS, durationMs: 2000, stallConsumer: { shard: 0, atMs: 700 } };
  await writeLoadTestReport(file, await runLoadTest(options), { options, command: 'kgshard loadtest ...' });
  await check(file, ['events', 'latency', 'shards', 'ring-fill', 'accounting'], 'loadtest');
});

test.run();
