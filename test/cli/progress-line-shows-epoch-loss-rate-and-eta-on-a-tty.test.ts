import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { StatusLine, TrainProgress } from '../../src/cli/progress.js';

function fakeStream(isTTY: boolean): { stream: NodeJS.WriteStream; text: () => string } {
  let buf = '';
  const stream = { isTTY, columns: 200, write: (s: string) => ((buf += s), true) } as unknown as NodeJS.WriteStream;
  return { stream, text: () => buf };
}

test('on a TTY: one line rewritten in place with epoch, loss, triples/s and ETA', () => {
  const f = fakeStream(true);
  const p = new TrainProgress(new StatusLine(f.stream), 10);
  p.epochDone(2, 0.41234, 31_200, 30); // 3 epochs done in 30 s: 10 s each, 7 to go
  const last = f.text().split('\r').pop()!;
  assert.match(last, /^epoch 4\/10 loss 0\.4123 31\.2k triples\/s ETA 1:(09|10)\x1b\[K$/);
  p.note('a notice');
  assert.ok(f.text().includes('\r\x1b[Ka notice\n'));
  p.stop();
  assert.ok(f.text().endsWith('\r\x1b[K'));
});

test('not a TTY: nothing is written', () => {
  const f = fakeStream(false);
  const p = new TrainProgress(new StatusLine(f.stream), 10);
  p.start();
  p.epochDone(0, 1, 1000, 1);
  p.note('hidden');
  p.stop();
  assert.is(f.text(), '');
});

test.run();
