/**
 * Charts for the HTML reports: a Vega-Lite spec (data inline) compiled by
 * `vega-lite` and rendered to an SVG string by `vega`'s headless view, in
 * Node, when the report is written. The page then shows the charts with no
 * script and no network. Vega is imported on first use only, so commands
 * that write no report do not pay for loading it.
 */
import type { Config, TopLevelSpec } from 'vega-lite';

/** One chart of a report. */
export interface Chart {
  /** Stable id (`loss`, `latency`): the figure's `data-chart` attribute in the page. */
  readonly id: string;
  readonly title: string;
  /** A sentence under the chart saying what it shows. */
  readonly caption: string;
  /** The Vega-Lite spec, its data inline (`config` is added when rendered). */
  readonly spec: TopLevelSpec;
  /** Data rows plotted: the figure's `data-rows` attribute (the tests check every chart has some). */
  readonly rows: number;
}

/** Colours that stay apart for the usual colour blindness (Okabe-Ito, without the yellow). */
export const PALETTE = ['#0072b2', '#e69f00', '#009e73', '#cc79a7', '#d55e00', '#56b4e9', '#000000'] as const;

export const FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif';

/** Plot area of a chart (axes and legends come on top). */
export const WIDTH = 400;
export const HEIGHT = 200;

const CONFIG: Config = {
  font: FONT,
  background: 'white',
  padding: 8,
  view: { stroke: null },
  axis: {
    labelColor: '#444',
    titleColor: '#333',
    titleFontWeight: 'normal',
    titleFontSize: 12,
    labelFontSize: 11,
    gridColor: '#ececec',
    domainColor: '#888',
    tickColor: '#888',
  },
  legend: { orient: 'top', labelFontSize: 11, titleFontSize: 11, titleFontWeight: 'normal', labelColor: '#333' },
  range: { category: [...PALETTE] },
  line: { strokeWidth: 2 },
  point: { size: 36, filled: true },
  bar: { color: PALETTE[0] },
};

interface Vega {
  parse(spec: unknown): unknown;
  View: new (
    runtime: unknown,
    options: { renderer: 'none' },
  ) => {
    toSVG(): Promise<string>;
    finalize(): void;
  };
}

interface VegaLite {
  compile(spec: TopLevelSpec): { spec: unknown };
}

let libraries: Promise<{ vega: Vega; vl: VegaLite }> | null = null;

function load(): Promise<{ vega: Vega; vl: VegaLite }> {
  libraries ??= Promise.all([import('vega'), import('vega-lite')]).then(([vega, vl]) => ({
    vega: vega as unknown as Vega,
    vl: vl as unknown as VegaLite,
  }));
  return libraries;
}

/**
 * The chart as an `<svg>` element for an HTML page: rendered by Vega (no
 * canvas: text widths are estimated), its namespace attributes dropped
 * (HTML's parser puts `<svg>` in the SVG namespace by itself), labelled for
 * screen readers, and scaled down with the page (it keeps its viewBox).
 */
export async function renderChart(chart: Chart): Promise<string> {
  const { vega, vl } = await load();
  const spec = { ...chart.spec, config: { ...CONFIG, ...(chart.spec.config ?? {}) } } as TopLevelSpec;
  const view = new vega.View(vega.parse(vl.compile(spec).spec), { renderer: 'none' });
  try {
    const svg = await view.toSVG();
    return svg
      .replace(/\s+xmlns(:xlink)?="[^"]*"/g, '')
      .replace('<svg ', `<svg role="img" aria-label="${escapeAttr(chart.title)}" `);
  } finally {
    view.finalize();
  }
}

function escapeAttr(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
}
