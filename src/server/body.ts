import type { IncomingMessage } from 'node:http';

export type BodyResult = { ok: true; body: Buffer } | { ok: false; reason: 'too_large' | 'aborted' };

/**
 * Read a body up to `limit` bytes, never rejecting. Larger (declared or streamed) → too_large without
 * buffering the rest: the remainder is drained and discarded, so the client can still read the 413 on
 * a keep-alive connection. A stream that errors or closes before its end → aborted.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<BodyResult> {
  return new Promise((resolve) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      req.resume();
      resolve({ ok: false, reason: 'too_large' });
      return;
    }
    if (req.readableEnded) {
      resolve(req.complete ? { ok: true, body: Buffer.alloc(0) } : { ok: false, reason: 'aborted' });
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const settle = (r: BodyResult) => {
      if (settled) return;
      settled = true;
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onAbort);
      req.off('close', onAbort);
      resolve(r);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        chunks.length = 0;
        settle({ ok: false, reason: 'too_large' });
        req.resume(); // no 'data' listener left: the rest is read and dropped
      } else chunks.push(chunk);
    };
    const onEnd = () => settle({ ok: true, body: Buffer.concat(chunks, size) });
    const onAbort = () => settle({ ok: false, reason: 'aborted' });
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onAbort);
    req.on('close', onAbort);
  });
}
