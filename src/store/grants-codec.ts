import { CodedError } from '../domain/errors.js';
import { Grant, liveGrantStatuses } from '../domain/grant.js';
import { checkExpectedVersion } from './codec.js';

// What both grant stores share: validation on the way in and out, and the errors they throw.

/** A grant as it may be stored: validated (an invalid record is a bug, never stored). */
export function checkGrant(grant: Grant): Grant {
  const parsed = Grant.safeParse(grant);
  if (!parsed.success)
    throw new CodedError(
      'internal',
      `grant ${String(grant?.id)} is not a valid record: ${parsed.error.message}`,
      {
        userSafe: false,
      },
    );
  return parsed.data;
}

export function checkNewGrant(grant: Grant): Grant {
  const checked = checkGrant(grant);
  if (checked.version !== 0)
    throw new CodedError('internal', `a new grant must have version 0 (got ${checked.version})`, {
      userSafe: false,
    });
  return checked;
}

export function checkGrantUpdate(next: Grant, expectedVersion: number): Grant {
  checkExpectedVersion(expectedVersion);
  return checkGrant({ ...next, version: expectedVersion + 1 });
}

/** A stored record read back: decoded, so a damaged record is an error and never a half-grant. */
export function decodeGrant(json: string): Grant {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (err) {
    throw new CodedError('internal', `stored grant is not JSON: ${(err as Error).message}`, {
      userSafe: false,
      cause: err,
    });
  }
  const parsed = Grant.safeParse(raw);
  if (!parsed.success)
    throw new CodedError('internal', `stored grant is not a valid record: ${parsed.error.message}`, {
      userSafe: false,
    });
  return parsed.data;
}

export const isLiveGrant = (g: Grant): boolean => liveGrantStatuses.includes(g.status);

export function grantConflict(
  id: string,
  expectedVersion: number,
  actualVersion: number | string,
): CodedError {
  return new CodedError(
    'store_conflict',
    `grant ${id} changed while you were working on it (expected version ${expectedVersion}, found ${actualVersion}); reload and try again`,
    { details: { id, expectedVersion, actualVersion: Number(actualVersion) } },
  );
}

export function grantNotFound(id: string): CodedError {
  return new CodedError('command_invalid', `no break-glass grant ${id}`, { details: { id } });
}

/** Newest request first; ties by id descending (as a Redis ZREVRANGE gives them). */
export function newestGrantFirst(a: Grant, b: Grant): number {
  const d = Date.parse(b.requestedAt) - Date.parse(a.requestedAt);
  if (d !== 0) return d;
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}
