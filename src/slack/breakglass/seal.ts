import { createHmac, timingSafeEqual } from 'node:crypto';

// A modal's private_metadata, sealed: what the modal is for (its purpose), who it was opened for,
// and its data (the incident, the grant, the request being reviewed), under an HMAC keyed from the
// signing secret (so every replica can open what another sealed). A view submission whose metadata
// was changed, belongs to another purpose, or was opened for someone else does not open: a signed
// request can then act only on what the bot itself put in front of that person.

export type Purpose = 'request' | 'review' | 'deny' | 'revoke' | 'extend';

export class ViewSeal {
  readonly #key: Buffer;

  constructor(secret: string) {
    this.#key = createHmac('sha256', secret).update('egress-responder: modal private_metadata v1').digest();
  }

  #mac(body: string): Buffer {
    return createHmac('sha256', this.#key).update(body).digest();
  }

  /** `<mac>.<json>`: the JSON stays readable in Slack's payloads; the MAC covers purpose, user and data. */
  seal(purpose: Purpose, user: string, data: Record<string, unknown>): string {
    const body = JSON.stringify({ p: purpose, u: user, d: data });
    return `${this.#mac(body).toString('base64url')}.${body}`;
  }

  /** The data when the metadata is ours, unchanged, for this purpose and this user; undefined otherwise. */
  open(purpose: Purpose, user: string, metadata: unknown): Record<string, unknown> | undefined {
    if (typeof metadata !== 'string') return undefined;
    const dot = metadata.indexOf('.');
    if (dot <= 0) return undefined;
    const given = Buffer.from(metadata.slice(0, dot), 'base64url');
    const body = metadata.slice(dot + 1);
    const expected = this.#mac(body);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      return undefined;
    }
    if (parsed === null || typeof parsed !== 'object') return undefined;
    const { p, u, d } = parsed as { p?: unknown; u?: unknown; d?: unknown };
    if (p !== purpose || u !== user || d === null || typeof d !== 'object' || Array.isArray(d))
      return undefined;
    return d as Record<string, unknown>;
  }
}
