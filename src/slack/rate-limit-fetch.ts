import type { FetchFunction } from '@slack/web-api';
import { isLimitedCall, type SlackRateLimit, type SlackRateLimitMet } from '../domain/slack-rate-limit.js';
import { methodOf } from './counting-fetch.js';

// A drill's injected Slack rate limit, as a fetch under the drill incident's own WebClient: the
// matching calls the rule picks are answered here, without reaching Slack, exactly as Slack answers
// over a limit (HTTP 429, `Retry-After`, `{ok:false,error:"ratelimited"}`). The WebClient honours the
// header and sends the same request again; a call seen again is that retry and goes through, so the
// message still arrives, and once Slack accepted it `onMet` is told (the presenter records it).

export function rateLimitingFetch(
  rule: SlackRateLimit,
  onMet: (met: SlackRateLimitMet) => void,
  inner: FetchFunction,
): FetchFunction {
  let calls = 0;
  /** Requests answered 429 and not yet retried, by method and body: when each was limited. */
  const limited = new Map<string, number>();
  return async (url, init) => {
    const method = methodOf(url);
    if (rule.method !== 'any' && rule.method !== method) return inner(url, init);
    const body = typeof init?.body === 'string' ? init.body : '';
    const key = `${method}\u0000${body}`;
    const since = limited.get(key);
    if (since === undefined) {
      calls += 1;
      if (isLimitedCall(rule, calls)) {
        limited.set(key, Date.now());
        return new Response(JSON.stringify({ ok: false, error: 'ratelimited' }), {
          status: 429,
          headers: { 'content-type': 'application/json', 'retry-after': String(rule.retry_after) },
        });
      }
      return inner(url, init);
    }
    limited.delete(key);
    const res = await inner(url, init);
    // Read once, handed on as a fresh response: the client reads the answer too.
    const text = await res.text();
    if (res.status === 200 && acceptedBySlack(text))
      onMet({ method, retryAfterS: rule.retry_after, waitedMs: Date.now() - since });
    return new Response(text, {
      status: res.status,
      statusText: res.statusText,
      headers: Object.fromEntries(res.headers.entries()),
    });
  };
}

function acceptedBySlack(text: string): boolean {
  try {
    return (JSON.parse(text) as { ok?: unknown }).ok === true;
  } catch {
    return false;
  }
}
