/** Lining up saved rows with another id order (a dataset's), by name. */
import { KgError } from '../../errors.js';
import type { Embeddings } from './types.js';

/**
 * Tables whose rows follow another id order: row i of the result is the row
 * of the entity named `entities[i]` (and the same for relations). Returns
 * `embeddings`' own tables when the orders already agree. Throws
 * E_UNKNOWN_ID naming the first entity or relation without an embedding;
 * names the embeddings have beyond the list are left out (`unused`).
 */
export function alignEmbeddings(
  embeddings: Embeddings,
  entities: readonly string[],
  relations: readonly string[],
): { entityTable: Float32Array; relationTable: Float32Array; unused: { entities: number; relations: number } } {
  const one = (
    kind: 'entity' | 'relation',
    have: readonly string[],
    want: readonly string[],
    table: Float32Array,
    width: number,
  ) => {
    if (have.length === want.length && have.every((n, i) => n === want[i])) return { table, unused: 0 };
    const index = new Map<string, number>();
    have.forEach((n, i) => index.set(n, i));
    const out = new Float32Array(new SharedArrayBuffer(Math.max(4, want.length * width * 4)), 0, want.length * width);
    for (let i = 0; i < want.length; i++) {
      const j = index.get(want[i]!);
      if (j === undefined) {
        throw new KgError(
          'E_UNKNOWN_ID',
          `alignEmbeddings: the ${kind} ${JSON.stringify(want[i])} of the dataset has no embedding ` +
            `(${have.length} ${kind === 'entity' ? 'entities' : 'relations'} saved)`,
          {
            where: 'alignEmbeddings',
            kind,
            id: want[i],
          },
        );
      }
      out.set(table.subarray(j * width, (j + 1) * width), i * width);
    }
    return { table: out, unused: have.length - want.length };
  };
  const e = one('entity', embeddings.entities, entities, embeddings.entityTable, embeddings.entityWidth);
  const r = one('relation', embeddings.relations, relations, embeddings.relationTable, embeddings.relationWidth);
  return { entityTable: e.table, relationTable: r.table, unused: { entities: e.unused, relations: r.unused } };
}
