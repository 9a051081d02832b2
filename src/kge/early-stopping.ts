/**
 * Early stopping on a validation metric (higher is better, e.g. MRR): keep a
 * copy of the tables at the best validation, say stop once `patience`
 * validations in a row have not improved on it, and put the best tables back
 * at the end. Call `record` only between epochs (no worker writes the tables
 * then), on the thread that owns the trainer.
 */
import { invalidArgument } from '../errors.js';

export interface Tables {
  readonly entities: Float32Array;
  readonly relations: Float32Array;
}

export interface BestValidation {
  readonly epoch: number;
  readonly score: number;
}

export class EarlyStopping {
  readonly patience: number;
  private bestEpoch = -1;
  private bestScore = -Infinity;
  private entities: Float32Array | null = null;
  private relations: Float32Array | null = null;
  /** Validations since the best one. */
  sinceBest = 0;

  constructor(patience: number) {
    if (!Number.isInteger(patience) || patience < 1)
      throw invalidArgument('EarlyStopping', 'patience', patience, 'a positive integer');
    this.patience = patience;
  }

  /**
   * Record the validation `score` after `epoch` epochs with the tables as they
   * are now; returns `'stop'` when the last `patience` validations have not
   * strictly improved on the best one.
   */
  record(epoch: number, score: number, tables: Tables): 'continue' | 'stop' {
    if (this.entities === null || score > this.bestScore) {
      this.bestEpoch = epoch;
      this.bestScore = score;
      this.entities = Float32Array.from(tables.entities);
      this.relations = Float32Array.from(tables.relations);
      this.sinceBest = 0;
      return 'continue';
    }
    this.sinceBest++;
    return this.sinceBest >= this.patience ? 'stop' : 'continue';
  }

  /** The best validation so far, or null before the first. */
  best(): BestValidation | null {
    return this.entities === null ? null : { epoch: this.bestEpoch, score: this.bestScore };
  }

  /**
   * Copy the best validation's tables into `tables` unless they were taken
   * after `lastEpoch` (then they are the current ones already). Returns the
   * epoch of the tables now in place, or null when nothing was recorded.
   */
  restoreBest(tables: Tables, lastEpoch: number): number | null {
    if (this.entities === null || this.relations === null) return null;
    if (this.bestEpoch !== lastEpoch) {
      tables.entities.set(this.entities);
      tables.relations.set(this.relations);
    }
    return this.bestEpoch;
  }
}
