import { WebClient } from '@slack/web-api';
import { CodedError } from '../../../src/domain/errors.js';
import {
  isLimitedCall,
  SlackRateLimit as Schema,
  type SlackRateLimit,
} from '../../../src/domain/slack-rate-limit.js';
import { parseScenario } from '../../../src/drills/scenario.js';
import { rateLimitingFetch } from '../../../src/slack/rate-limit-fetch.js';
import { type FakeSlackApi, startFakeSlackApi } from '../../fakes/slack-api/index.js';

// The drill's injected Slack rate limit on its own: which calls it picks, that the real WebClient
// honours its 429 + Retry-After and sends the same call again (which then reaches Slack, once), and
// the scenario field refusing what it cannot mean.

let fake: FakeSlackApi;
beforeAll(async () => {
  fake = await startFakeSlackApi();
});
afterAll(async () => {
  await fake.close();
});
beforeEach(() => fake.reset());

const rule = (over: Partial<SlackRateLimit>) => Schema.parse(over);
const picked = (r: SlackRateLimit, n = 10) =>
  Array.from({ length: n }, (_, i) => i + 1).filter((k) => isLimitedCall(r, k));

it('picks the calls: every N-th, the one after N, or the first', () => {
  expect(picked(rule({ every: 3 }))).toEqual([3, 6, 9]);
  expect(picked(rule({ every: 1 }), 4)).toEqual([1, 2, 3, 4]);
  expect(picked(rule({ after: 2 }))).toEqual([3]);
  expect(picked(rule({}))).toEqual([1]);
});

it('the WebClient waits Retry-After and sends the limited call again; Slack gets every message once', async () => {
  const met: { method: string; waitedMs: number }[] = [];
  const client = new WebClient('xoxb-test', {
    slackApiUrl: fake.url,
    retryConfig: { retries: 1, minTimeout: 0, maxTimeout: 0 },
    fetch: rateLimitingFetch(
      rule({ method: 'chat.postMessage', every: 2, retry_after: 1 }),
      (m) => met.push(m),
      globalThis.fetch,
    ),
  });
  const started = performance.now();
  for (const text of ['one', 'two', 'three']) await client.chat.postMessage({ channel: 'C0DRILLS', text });
  await client.chat.update({
    channel: 'C0DRILLS',
    ts: fake.messages('C0DRILLS')[0]!.ts,
    text: 'one, edited',
  });
  const ms = performance.now() - started;
  expect(fake.messages('C0DRILLS').map((m) => m.text)).toEqual(['one, edited', 'two', 'three']);
  // The limited attempt of "two" never reached Slack: three posts arrived, not four.
  expect(fake.calls.filter((c) => c.method === 'chat.postMessage').map((c) => c.body.text)).toEqual([
    'one',
    'two',
    'three',
  ]);
  expect(met.map((m) => m.method)).toEqual(['chat.postMessage']);
  expect(met[0]!.waitedMs).toBeGreaterThanOrEqual(1000);
  expect(ms).toBeGreaterThanOrEqual(1000);
});

it('a scenario refuses a rate limit it cannot mean, naming the field', () => {
  const scenario = (limit: string) => `id: t
title: T
alert:
  src_service: payments-api
  src_namespace: prod
  dst_type: fqdn
  dst_name: paste.example.net
  dst_port: 443
  protocol: https
complications:
  slack_rate_limit: ${limit}
`;
  const problems = (limit: string) => {
    try {
      parseScenario(scenario(limit), 't.yaml');
      return [];
    } catch (err) {
      if (err instanceof CodedError) return err.issues.map((i) => `${i.path}: ${i.message}`);
      throw err;
    }
  };
  expect(problems('{ after: 1, every: 2 }').join('\n')).toMatch(
    /slack_rate_limit\.every.*give either after or every, not both/,
  );
  expect(problems('{ method: chat.delete }').join('\n')).toMatch(/slack_rate_limit\.method/);
  expect(problems('{ retry_after: 0 }').join('\n')).toMatch(/slack_rate_limit\.retry_after/);
  expect(problems('{ every: 2, constructor: 1 }').join('\n')).toMatch(/slack_rate_limit.*constructor/);
  expect(problems('{ method: chat.update, every: 5, retry_after: 3 }')).toEqual([]);
});
