import { createHash } from 'node:crypto';
import { canonicalJson } from '../domain/canonical.js';
import type { EgressContract } from '../domain/contract.js';

// The fingerprint of a contract that every rendered object carries: sha256 over the canonical JSON
// of the contract as validated (names normalised, defaults filled), so reformatting the YAML, moving
// keys or adding comments does not change it, and any change to a rule does.

export function contractSha256(contract: EgressContract): string {
  return createHash('sha256').update(canonicalJson(contract)).digest('hex');
}
