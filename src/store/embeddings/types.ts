/**
 * The in-memory embeddings every format is written from and read into.
 * Row i of a table belongs to the name at index i; tables are row-major
 * float32. The store knows no models: what a model's rows look like comes
 * in as `RowWidths` (the model registry in `kge/` provides it).
 */

/** Names and tables: what every format holds. */
export interface EmbeddingTables {
  /** Names by id. */
  readonly entities: readonly string[];
  readonly relations: readonly string[];
  /** `entities.length * entityWidth` floats (`entityDim` in exports). */
  readonly entityTable: Float32Array;
  readonly relationTable: Float32Array;
}

/** Tables of a model: its name, rank and the row widths they imply. */
export interface Embeddings extends EmbeddingTables {
  readonly model: string;
  readonly dim: number;
  readonly entityWidth: number;
  readonly relationWidth: number;
}

/** The floats per entity and relation row a model and dim imply, and the largest dim. */
export interface RowWidths {
  /** Throws a KgError (E_INVALID_ARGUMENT for an unknown model, E_OUT_OF_RANGE for a bad dim). */
  widths(model: string, dim: number): { readonly entityWidth: number; readonly relationWidth: number };
  readonly maxDim: number;
}

/** One table file read back. */
export interface ImportedTable {
  /** Names by row; null for a `.npy` table (its names live in a separate id map). */
  readonly names: string[] | null;
  readonly rows: number;
  readonly dim: number;
  readonly table: Float32Array;
}
