/**
 * The HTML around a report's charts: one page, its style inline, no
 * script and no link to anything outside it, so the file shows the same
 * anywhere (a browser offline, an attachment, a CI artifact).
 */
import { FONT, renderChart, type Chart } from './render.js';

/** A block of a report page, in order. */
export type Block =
  | { readonly kind: 'charts'; readonly title: string; readonly charts: readonly Chart[] }
  | { readonly kind: 'table'; readonly title: string; readonly table: Table; readonly note?: string }
  | { readonly kind: 'verdict'; readonly ok: boolean; readonly text: string }
  | { readonly kind: 'details'; readonly summary: string; readonly table: Table };

export interface Table {
  /** Column heads; none for a two-column key/value table. */
  readonly head?: readonly string[];
  readonly rows: readonly (readonly (string | number)[])[];
  /** Columns (0-based) aligned right: numbers. */
  readonly numeric?: readonly number[];
  /** Split the rows into this many tables side by side (long lists of short rows). */
  readonly split?: number;
}

export interface Page {
  readonly title: string;
  /** Lines under the title (what ran, when). */
  readonly subtitle: readonly string[];
  readonly blocks: readonly Block[];
}

export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const STYLE = `
*{box-sizing:border-box}
body{margin:0;background:#f6f7f9;color:#1d2330;font:14px/1.45 ${FONT}}
main{max-width:1000px;margin:0 auto;padding:20px 16px 40px}
h1{font-size:22px;margin:0 0 4px}
h2{font-size:16px;margin:28px 0 10px;padding-bottom:4px;border-bottom:1px solid #dde1e7}
.sub{color:#56607a;margin:0}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(440px,1fr));gap:14px}
figure{margin:0;background:#fff;border:1px solid #dde1e7;border-radius:6px;padding:10px 10px 8px}
figure h3{font-size:14px;margin:0 0 2px}
figure svg{display:block;max-width:100%;height:auto;margin:4px auto}
figcaption{color:#56607a;font-size:12.5px}
table{border-collapse:collapse;background:#fff;border:1px solid #dde1e7;font-size:13px;margin:0 0 6px}
th,td{padding:4px 10px;border-bottom:1px solid #eef0f3;text-align:left;vertical-align:top}
th{background:#f0f2f5;font-weight:600}
td.n{text-align:right;font-variant-numeric:tabular-nums}
table.kv td:first-child{color:#56607a}
.split{display:flex;flex-wrap:wrap;gap:12px;align-items:flex-start}
.note{color:#56607a;font-size:12.5px;margin:4px 0 0}
.verdict{padding:10px 14px;border-radius:6px;font-weight:600;margin:8px 0}
.verdict.ok{background:#e3f4ea;color:#125c32;border:1px solid #b6e0c5}
.verdict.bad{background:#fde7e5;color:#8a1c12;border:1px solid #f3b9b2}
details{margin:8px 0}
summary{cursor:pointer;color:#0b5cab}
`;

function tableHtml(t: Table): string {
  const parts = Math.max(1, Math.min(t.split ?? 1, t.rows.length));
  if (parts > 1) {
    const per = Math.ceil(t.rows.length / parts);
    const tables: string[] = [];
    for (let i = 0; i < t.rows.length; i += per)
      tables.push(tableHtml({ ...t, rows: t.rows.slice(i, i + per), split: 1 }));
    return `<div class="split">${tables.join('\n')}</div>`;
  }
  const numeric = new Set(t.numeric ?? []);
  const cell = (v: string | number, k: number, tag: 'td' | 'th'): string =>
    `<${tag}${tag === 'td' && numeric.has(k) ? ' class="n"' : ''}>${escapeHtml(String(v))}</${tag}>`;
  const head = t.head ? `<thead><tr>${t.head.map((h, k) => cell(h, k, 'th')).join('')}</tr></thead>` : '';
  const body = t.rows.map((r) => `<tr>${r.map((v, k) => cell(v, k, 'td')).join('')}</tr>`).join('\n');
  return `<table${t.head ? '' : ' class="kv"'}>${head}<tbody>\n${body}\n</tbody></table>`;
}

async function figureHtml(c: Chart): Promise<string> {
  const svg = await renderChart(c);
  return (
    `<figure id="chart-${escapeHtml(c.id)}" data-chart="${escapeHtml(c.id)}" data-rows="${c.rows}">` +
    `<h3>${escapeHtml(c.title)}</h3>\n${svg}\n<figcaption>${escapeHtml(c.caption)}</figcaption></figure>`
  );
}

async function blockHtml(b: Block): Promise<string> {
  switch (b.kind) {
    case 'charts': {
      const figures: string[] = [];
      // One at a time: each render builds a whole Vega view.
      for (const c of b.charts) figures.push(await figureHtml(c));
      return `<h2>${escapeHtml(b.title)}</h2>\n<div class="charts">\n${figures.join('\n')}\n</div>`;
    }
    case 'table':
      return (
        `<h2>${escapeHtml(b.title)}</h2>\n${tableHtml(b.table)}` +
        (b.note !== undefined ? `\n<p class="note">${escapeHtml(b.note)}</p>` : '')
      );
    case 'verdict':
      return `<p class="verdict ${b.ok ? 'ok' : 'bad'}">${escapeHtml(b.text)}</p>`;
    case 'details':
      return `<details><summary>${escapeHtml(b.summary)}</summary>\n${tableHtml(b.table)}\n</details>`;
  }
}

/** The whole page as one HTML string. */
export async function pageHtml(p: Page): Promise<string> {
  const blocks: string[] = [];
  for (const b of p.blocks) blocks.push(await blockHtml(b));
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(p.title)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<h1>${escapeHtml(p.title)}</h1>
${p.subtitle.map((s) => `<p class="sub">${escapeHtml(s)}</p>`).join('\n')}
${blocks.join('\n')}
</main>
</body>
</html>
`;
}

/** A number for a table: integers with separators, others with `digits` significant digits. */
export function num(x: number | null | undefined, digits = 4): string {
  if (x === null || x === undefined || Number.isNaN(x)) return '-';
  if (Number.isInteger(x)) return x.toLocaleString('en-US');
  if (Math.abs(x) >= 1000) return Math.round(x).toLocaleString('en-US');
  return String(Number(x.toPrecision(digits)));
}
