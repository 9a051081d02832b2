import { test } from 'uvu';
import fc from 'fast-check';
import { parseTriples } from '../../src/data/tsv.js';
import { check } from '../helpers/prop.js';

// A name: any string without tab, CR or LF that is not whitespace-only
// (a line of three whitespace-only names would read as a blank line).
const name = fc
  .string({ unit: 'grapheme', minLength: 1, maxLength: 12 })
  .map((s) => s.replace(/[\t\r\n]/g, '_'))
  .filter((s) => s.trim() !== '');
const triple = fc.tuple(name, name, name);
const blank = fc.constantFrom('', ' ', '  ', '\t', ' \t ');

test(
  'any list of triples written as TSV with blank lines and mixed line endings ' + 'parses back to the same list',
  async () => {
    await check(
      fc.property(
        fc.array(fc.record({ t: triple, blanksBefore: fc.array(blank, { maxLength: 2 }), crlf: fc.boolean() }), {
          maxLength: 40,
        }),
        fc.array(blank, { maxLength: 2 }),
        fc.boolean(),
        (rows, trailingBlanks, finalNewline) => {
          let text = '';
          for (const { t, blanksBefore, crlf } of rows) {
            const eol = crlf ? '\r\n' : '\n';
            for (const b of blanksBefore) text += b + eol;
            text += t.join('\t') + eol;
          }
          for (const b of trailingBlanks) text += `${b}\n`;
          if (!finalNewline && text.endsWith('\n')) text = text.slice(0, text.endsWith('\r\n') ? -2 : -1);
          const parsed = parseTriples(text, 'p.tsv');
          const expected = rows.map((r) => r.t);
          if (JSON.stringify(parsed) !== JSON.stringify(expected)) {
            throw new Error(`parsed ${JSON.stringify(parsed)} from ${JSON.stringify(text)}`);
          }
        },
      ),
      200,
    );
  },
);

test.run();
