/**
 * One updating status line on a terminal: `\r`, the text, clear to the end
 * of the line. Enabled only when the stream is a TTY, so piped and
 * redirected runs stay quiet. `note` prints a whole line above the status
 * line (and also only on a TTY).
 */
import { clock, compact } from './flags.js';

export class StatusLine {
  readonly enabled: boolean;
  private readonly stream: NodeJS.WriteStream;
  private current = '';

  constructor(stream: NodeJS.WriteStream = process.stderr, enabled: boolean = stream.isTTY === true) {
    this.stream = stream;
    this.enabled = enabled;
  }

  /** Replace the status line with `text` (cut to the terminal's width). */
  set(text: string): void {
    if (!this.enabled) return;
    const width = this.stream.columns ?? 0;
    this.current = width > 1 && text.length >= width ? text.slice(0, width - 1) : text;
    this.stream.write(`\r${this.current}\x1b[K`);
  }

  /** A line of its own above the status line. */
  note(text: string): void {
    if (!this.enabled) return;
    this.stream.write(`\r\x1b[K${text}\n`);
    if (this.current !== '') this.stream.write(`${this.current}\x1b[K`);
  }

  /** Erase the status line. */
  clear(): void {
    if (!this.enabled || this.current === '') return;
    this.stream.write('\r\x1b[K');
    this.current = '';
  }
}

/**
 * The training progress line: `epoch 3/10 loss 0.4123 31.2k triples/s ETA 0:42`.
 * `epochDone` is called after each epoch; a one-second timer refreshes the
 * line between epochs (the epoch in progress, the elapsed time and a
 * count-down of the ETA), since the trainer reports only at epoch ends.
 */
export class TrainProgress {
  private readonly line: StatusLine;
  private readonly epochs: number;
  private timer: NodeJS.Timeout | null = null;
  private done = 0;
  private loss = NaN;
  private rate = 0;
  private trainSeconds = 0;
  private epochStarted = performance.now();
  private phase = '';
  private extra = '';
  private lastRender = -Infinity;

  constructor(line: StatusLine, epochs: number) {
    this.line = line;
    this.epochs = epochs;
  }

  start(): void {
    if (!this.line.enabled) return;
    this.epochStarted = performance.now();
    this.render();
    this.timer = setInterval(() => this.render(), 1000);
    this.timer.unref();
  }

  epochDone(epoch: number, loss: number, triplesPerSecond: number, trainSeconds: number): void {
    this.done = epoch + 1;
    this.loss = loss;
    this.rate = triplesPerSecond;
    this.trainSeconds = trainSeconds;
    this.epochStarted = performance.now();
    // Short epochs would redraw the line thousands of times a second: at most 10 redraws a second.
    if (this.epochStarted - this.lastRender >= 100 || this.done === this.epochs) this.render();
  }

  /** Shown after the numbers, e.g. `valid MRR 0.412 (best 0.415 @ 6)`. */
  setExtra(text: string): void {
    this.extra = text;
    this.render();
  }

  /** Something other than training is running (`evaluating valid`): the ETA pauses. */
  setPhase(text: string): void {
    this.phase = text;
    this.render();
  }

  note(text: string): void {
    this.line.note(text);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.line.clear();
  }

  private render(): void {
    if (!this.line.enabled) return;
    this.lastRender = performance.now();
    // The epoch in progress; while validating, the one just finished.
    const running = this.phase !== '' ? this.done : Math.min(this.epochs, this.done + 1);
    const parts = [`epoch ${running}/${this.epochs}`];
    parts.push(Number.isFinite(this.loss) ? `loss ${this.loss.toFixed(4)}` : 'loss -');
    parts.push(this.rate > 0 ? `${compact(this.rate)} triples/s` : '- triples/s');
    if (this.phase !== '') {
      parts.push(this.phase);
    } else {
      const perEpoch = this.done > 0 ? this.trainSeconds / this.done : NaN;
      const inEpoch = (performance.now() - this.epochStarted) / 1000;
      const eta = perEpoch * (this.epochs - this.done) - inEpoch;
      parts.push(`ETA ${this.done > 0 ? clock(Math.max(0, eta)) : '-:--'}`);
    }
    if (this.extra !== '') parts.push(this.extra);
    this.line.set(parts.join(' '));
  }
}
