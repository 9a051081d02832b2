/**
 * Reading a report page back in tests: its figures (the chart's id, the
 * rows it plots, its SVG) and what the SVG draws (Vega labels every drawn
 * item with `role="graphics-symbol"` and a role description: `bar`,
 * `point`, `line mark`, ...).
 */
export interface Figure {
  readonly id: string;
  readonly rows: number;
  readonly svg: string;
}

export function figures(html: string): Figure[] {
  return [
    ...html.matchAll(/<figure id="chart-[^"]*" data-chart="([^"]+)" data-rows="(\d+)">([\s\S]*?)<\/figure>/g),
  ].map((m) => ({ id: m[1]!, rows: Number(m[2]), svg: /<svg[\s\S]*<\/svg>/.exec(m[3]!)?.[0] ?? '' }));
}

/** Drawn items by role description (`bar` → 16). */
export function drawn(svg: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of svg.matchAll(/role="graphics-symbol" aria-roledescription="([^"]+)"/g)) {
    out.set(m[1]!, (out.get(m[1]!) ?? 0) + 1);
  }
  return out;
}

/** Vertices of the paths drawn as `kind` (`line mark`, `area mark`): one per data row of a line. */
export function vertices(svg: string, kind: string): number {
  let n = 0;
  const re = new RegExp(`aria-roledescription="${kind}" d="([^"]*)"`, 'g');
  for (const m of svg.matchAll(re)) n += (m[1]!.match(/[ML]/g) ?? []).length;
  return n;
}

/** What a self-contained page must not hold: a script, a link to fetch, a URL (but `url(#clip1)`, inside the page). */
export function externalRefs(html: string): string[] {
  const found: string[] = [];
  for (const re of [
    /<script/gi,
    /<link/gi,
    /<iframe/gi,
    /<img/gi,
    /\bsrc=/gi,
    /url\((?!#)/gi,
    /@import/gi,
    /https?:\/\//gi,
  ]) {
    for (const m of html.matchAll(re)) found.push(html.slice(Math.max(0, m.index - 40), m.index + 60));
  }
  return found;
}
