import type { Incident } from '../domain/incident.js';
import { decodeIncident } from './codec.js';

// Every read of an incident brings back its whole document, and most reads see the very bytes an
// earlier read brought: a fold changes only the counters kept beside the document, and the engine
// reads an incident again before each compare-and-set. Validating a document (zod over the whole
// incident) is the costly part of a read. Bytes that were validated before and that JSON.parse alone
// turns into exactly what validation gave (no default filled in, nothing transformed) need only
// JSON.parse the next time, which is also a fresh copy for the caller to change. Anything else is
// validated as always.

/** Documents remembered at most (the most recently validated ones). */
const REMEMBERED = 256;

export class ValidatedDocuments {
  readonly #seen = new Set<string>();

  decode(data: string, where: string): Incident {
    if (this.#seen.has(data)) return JSON.parse(data) as Incident;
    const doc = decodeIncident(data, where);
    if (JSON.stringify(doc) === data) {
      this.#seen.add(data);
      if (this.#seen.size > REMEMBERED) this.#seen.delete(this.#seen.values().next().value as string);
    }
    return doc;
  }
}
