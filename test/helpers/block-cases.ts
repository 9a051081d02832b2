/**
 * Random blocks for the blocked-kernel tests: n queries (entity and
 * relation rows) against m shared candidates, rows drawn from small tables
 * that sit `pad` floats into their buffers, so rows repeat and overlap the
 * queries' own entities. `extra` adds fields that depend on the shapes
 * (gradient buffers, coefficients).
 */
import fc from 'fast-check';
import type { Block, KgeModel } from '../../src/kge/models/index.js';

export const ENT_ROWS = 6;
export const REL_ROWS = 3;

export interface BlockCase {
  dim: number;
  pad: number;
  ents: number[];
  rels: number[];
  /** Row indices of the queries' entities and relations, and of the candidates. */
  entRows: number[];
  relRows: number[];
  candRows: number[];
}

/** Values in [-1, 1] on a 2^-20 grid: exact in float32 and in their products' float64 sums. */
export const value = fc.noBias(fc.integer({ min: -(2 ** 20), max: 2 ** 20 })).map((x) => x / 2 ** 20);

/** The shapes `extra` may size its fields by. */
export interface BlockSizes {
  readonly n: number;
  readonly m: number;
  readonly ew: number;
  readonly rw: number;
}

export function blockCase<X extends object = object>(
  model: KgeModel,
  extra: (s: BlockSizes) => { [K in keyof X]: fc.Arbitrary<X[K]> } = () =>
    ({}) as { [K in keyof X]: fc.Arbitrary<X[K]> },
): fc.Arbitrary<BlockCase & X> {
  return fc
    .record({
      dim: fc.integer({ min: 1, max: 6 }),
      n: fc.integer({ min: 0, max: 5 }),
      m: fc.integer({ min: 0, max: 7 }),
    })
    .chain(({ dim, n, m }) => {
      const { entityWidth: ew, relationWidth: rw } = model.shapes(dim);
      return fc.record({
        dim: fc.constant(dim),
        pad: fc.integer({ min: 0, max: 3 }),
        ents: fc.array(value, { minLength: ENT_ROWS * ew, maxLength: ENT_ROWS * ew }),
        rels: fc.array(
          value.map((x) => 4 * x),
          { minLength: REL_ROWS * rw, maxLength: REL_ROWS * rw },
        ),
        entRows: fc.array(fc.integer({ min: 0, max: ENT_ROWS - 1 }), { minLength: n, maxLength: n }),
        relRows: fc.array(fc.integer({ min: 0, max: REL_ROWS - 1 }), { minLength: n, maxLength: n }),
        candRows: fc.array(fc.integer({ min: 0, max: ENT_ROWS - 1 }), { minLength: m, maxLength: m }),
        ...extra({ n, m, ew, rw }),
      }) as unknown as fc.Arbitrary<BlockCase & X>;
    });
}

/**
 * Queries and candidates share one entity buffer, rows after `pad` floats; offset arrays are one longer than needed.
 */
export function fillBlock(model: KgeModel, c: BlockCase, b: Block): void {
  const { entityWidth: ew, relationWidth: rw } = model.shapes(c.dim);
  const ent = new Float32Array(c.pad + c.ents.length);
  ent.set(c.ents, c.pad);
  const rel = new Float32Array(c.pad + c.rels.length);
  rel.set(c.rels, c.pad);
  const offs = (rows: number[], w: number): Int32Array =>
    Int32Array.from([...rows.map((row) => c.pad + row * w), -99999]);
  b.dim = c.dim;
  b.n = c.entRows.length;
  b.m = c.candRows.length;
  b.ent = ent;
  b.cand = ent;
  b.rel = rel;
  b.entOffs = offs(c.entRows, ew);
  b.relOffs = offs(c.relRows, rw);
  b.candOffs = offs(c.candRows, ew);
}
