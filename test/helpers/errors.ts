/** Assertions on kgshard's errors. */
import * as assert from 'uvu/assert';
import { KgError } from '../../src/errors.js';

/** Run `fn`, assert it throws a KgError, and return it. */
export function err(fn: () => unknown): KgError {
  try {
    fn();
  } catch (e) {
    assert.instance(e, KgError);
    return e as KgError;
  }
  throw new Error('expected a KgError, but nothing was thrown');
}

/** Await `p`, assert it rejects with a KgError, and return it. */
export async function rejection(p: Promise<unknown>): Promise<KgError> {
  try {
    await p;
  } catch (e) {
    assert.instance(e, KgError);
    return e as KgError;
  }
  throw new Error('expected a rejection with a KgError');
}

/** `CODE: message` of the KgError `fn` throws, or `no error`. */
export function errorText(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.instance(e, KgError);
    return `${(e as KgError).code}: ${(e as KgError).message}`;
  }
  return 'no error';
}
