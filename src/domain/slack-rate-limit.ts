import { z } from 'zod';

// A drill complication: Slack answering the bot's Web API calls for one drill incident with HTTP 429
// and a Retry-After, as it does when a workspace is over its rate limit. The bot's own Slack client
// honours Retry-After and sends the call again, so the drill shows the thread arriving late but whole.

/** The Web API methods a rate limit can be put on (`any`: every call the thread makes). */
export const SLACK_LIMITED_METHODS = ['chat.postMessage', 'chat.update', 'any'] as const;

export const SlackRateLimit = z
  .strictObject({
    method: z.enum(SLACK_LIMITED_METHODS).default('any'),
    /** The first `after` matching calls pass and the next one is answered 429 (once). */
    after: z.number().int().min(0).max(10_000).optional(),
    /** Every `every`-th matching call is answered 429. */
    every: z.number().int().min(1).max(10_000).optional(),
    /** Seconds in the Retry-After header. */
    retry_after: z.number().int().min(1).max(60).default(1),
  })
  .refine((r) => r.after === undefined || r.every === undefined, {
    error: 'give either after or every, not both',
    path: ['every'],
  });
export type SlackRateLimit = z.infer<typeof SlackRateLimit>;

/** Whether the n-th (1-based) matching call is answered 429 (neither `after` nor `every`: the first one). */
export function isLimitedCall(rule: SlackRateLimit, n: number): boolean {
  if (rule.every !== undefined) return n % rule.every === 0;
  return n === (rule.after ?? 0) + 1;
}

/** `Slack rate limit on chat.update: every 3rd call answered 429, Retry-After 2 s`. */
export function describeSlackRateLimit(rule: SlackRateLimit): string {
  const which =
    rule.every === undefined
      ? `call ${(rule.after ?? 0) + 1} answered 429`
      : rule.every === 1
        ? 'every call answered 429 once'
        : `every ${ordinal(rule.every)} call answered 429`;
  const on = rule.method === 'any' ? "the drill thread's calls" : rule.method;
  return `Slack rate limit on ${on}: ${which}, Retry-After ${rule.retry_after} s`;
}

function ordinal(n: number): string {
  const teen = n % 100 >= 11 && n % 100 <= 13;
  return `${n}${teen ? 'th' : (['th', 'st', 'nd', 'rd'][n % 10] ?? 'th')}`;
}

/** A call answered 429 by the injected limit, then sent again after Retry-After and delivered. */
export interface SlackRateLimitMet {
  method: string;
  retryAfterS: number;
  /** From the 429 to the delivered retry. */
  waitedMs: number;
}

/** What `details.complication` says on the timeline event that records a met rate limit. */
export const SLACK_RATE_LIMIT_COMPLICATION = 'slack_rate_limit';
