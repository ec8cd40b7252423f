import type { ParsedBatch } from '../../src/domain/alert.js';
import { CodedError, type FieldIssue } from '../../src/domain/errors.js';

/** The CodedError `fn` throws; fails the test if it throws nothing or something else. */
export function thrownCoded(fn: () => unknown): CodedError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(CodedError);
    return err as CodedError;
  }
  throw new Error('expected a CodedError, nothing was thrown');
}

/** The CodedError `p` rejects with; fails the test if it resolves or rejects with something else. */
export async function rejectedCoded(p: Promise<unknown>): Promise<CodedError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof CodedError) return err;
    throw err;
  }
  throw new Error('expected the call to reject with a CodedError, but it resolved');
}

/** Every issue of the items a parsed batch rejected, in body order (the valid ones have none). */
export function rejectedIssues(batch: ParsedBatch): FieldIssue[] {
  return batch.items.flatMap((item) => item.issues ?? []);
}
