import { expect } from 'vitest';
import { ComicError } from '../../src/errors.js';

/** The ComicError `promise` rejects with; fails the test if it resolves or rejects with anything else. */
export async function rejection(promise: Promise<unknown>): Promise<ComicError> {
  const error = await promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ComicError);
  return error as ComicError;
}
