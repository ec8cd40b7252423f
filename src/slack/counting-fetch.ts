import type { FetchFunction } from '@slack/web-api';

// Slack Web API failures, counted by method and error, as the WebClient's transport sees them: every
// call Bolt or the presenter makes goes through this fetch, so no call site has to remember to count.
// A 200 with `ok: false` carries Slack's error string (`channel_not_found`, `ratelimited` …); other
// statuses count as `http_<status>`; a transport failure as `network`.

export type SlackErrorSink = (method: string, error: string) => void;

/** `https://slack.com/api/chat.postMessage` → `chat.postMessage` (bounded: it becomes a label). */
export function methodOf(url: string | URL): string {
  const path = new URL(String(url)).pathname;
  // Only Web API paths name a method; a file upload goes to a per-file URL (an unbounded label).
  const m = /\/api\/([A-Za-z0-9_.]{1,60})$/.exec(path);
  return m?.[1] ?? 'file_upload';
}

export function countingFetch(
  onError: SlackErrorSink,
  inner: typeof fetch = globalThis.fetch,
): FetchFunction {
  return async (url, init) => {
    const method = methodOf(url);
    let res: Response;
    try {
      res = await inner(url, init as RequestInit);
    } catch (err) {
      onError(method, 'network');
      throw err;
    }
    if (res.status !== 200) {
      onError(method, res.status === 429 ? 'ratelimited' : `http_${res.status}`);
      return res;
    }
    // Read a copy: the client reads the original.
    const body = (await res
      .clone()
      .json()
      .catch(() => undefined)) as { ok?: unknown; error?: unknown } | undefined;
    if (body && body.ok === false)
      onError(method, typeof body.error === 'string' ? body.error.slice(0, 60) : 'unknown');
    return res;
  };
}
