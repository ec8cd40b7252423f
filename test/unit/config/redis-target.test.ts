import { readEnv } from '../../../src/config/load.js';
import { ConfigFile } from '../../../src/config/schema.js';
import { CodedError } from '../../../src/domain/errors.js';
import { parseRedisTarget, redactRedisUrl } from '../../../src/domain/redis-target.js';

// REDIS_URL picks the topology; a wrong one is refused when the config is read, naming what is
// wrong and never echoing a password.

function refusal(url: string): CodedError {
  try {
    readEnv({ REDIS_URL: url });
  } catch (err) {
    if (err instanceof CodedError) return err;
    throw err;
  }
  throw new Error(`expected ${url} to be refused`);
}

describe('REDIS_URL', () => {
  it('takes one server as ioredis reads it (redis://, rediss://, a database number)', () => {
    for (const url of ['redis://127.0.0.1:6379', 'rediss://:pw@redis.example:6380/2', 'redis://localhost']) {
      expect(parseRedisTarget(url)).toEqual({ kind: 'single', url });
    }
  });

  it('takes Sentinels and the master name, credentials for the data nodes, the Sentinels own by query', () => {
    expect(
      parseRedisTarget(
        'redis+sentinel://app:p%40ss@10.0.0.1:26379,sentinel-b,[::1]:26380/mymaster/3?sentinelPassword=s3',
      ),
    ).toEqual({
      kind: 'sentinel',
      sentinels: [
        { host: '10.0.0.1', port: 26379 },
        { host: 'sentinel-b', port: 26379 },
        { host: '::1', port: 26380 },
      ],
      name: 'mymaster',
      db: 3,
      username: 'app',
      password: 'p@ss',
      sentinelPassword: 's3',
      tls: false,
    });
  });

  it('takes Cluster seed nodes (default port 6379), with TLS under rediss+cluster://', () => {
    expect(parseRedisTarget('rediss+cluster://:pw@a:7000,b')).toEqual({
      kind: 'cluster',
      nodes: [
        { host: 'a', port: 7000 },
        { host: 'b', port: 6379 },
      ],
      password: 'pw',
      tls: true,
    });
  });

  it.each([
    ['http://127.0.0.1:6379', 'expected a URL starting with one of redis://'],
    ['constructor://x:1', 'expected a URL starting with one of'],
    ['__proto__://x:1', 'expected a URL starting with one of'],
    ['redis://a:1,b:2', 'one host only'],
    ['redis://a:99999', 'out of range'],
    ['redis://a:1/x', 'database number'],
    ['redis+sentinel://a:1', 'master name'],
    ['redis+sentinel://a:1/../etc', 'the master name may hold'],
    ['redis+sentinel://a:1/m?password=x', 'unknown query parameter "password"'],
    ['redis+sentinel://a:1/m?constructor=x', 'unknown query parameter "constructor"'],
    ['redis+cluster://a:1/0', 'no database or master name'],
    ['redis+cluster://a:1,,b:2', 'expected host:port, got ""'],
    ['redis+cluster://a b:1', 'expected host:port'],
    [`redis+cluster://h:1,…×40`, 'more than 32 hosts'],
    [`redis://a…×5000`, 'longer than 4096'],
    ['redis+sentinel://a:1/m/%zz', 'database number'],
  ])('refuses %s: %s', (shown: string, expected: string) => {
    // Huge inputs are named by their shape in the test title and built here.
    const url = shown
      .replace('h:1,…×40', Array.from({ length: 40 }, (_, i) => `h${i}:1`).join(','))
      .replace('a…×5000', 'a'.repeat(5000));
    const err = refusal(url);
    expect(err.code).toBe('config_invalid');
    expect(err.issues).toHaveLength(1);
    expect(err.issues[0]?.path).toBe('REDIS_URL');
    expect(err.issues[0]?.message).toContain(expected);
  });

  it('never shows a password in a refusal, in the URL or in a Sentinel query', () => {
    const err = refusal('redis+sentinel://user:hunter2@a:1,b:bad/m?sentinelPassword=topsecret');
    const text = `${err.message} ${JSON.stringify(err.issues)} ${err.toString()}`;
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain('topsecret');
    expect(err.issues[0]?.value).toBe('redis+sentinel://***@a:1,b:bad/m?sentinelPassword=***');
    expect(redactRedisUrl('redis://:pw@h:1')).toBe('redis://***@h:1');
  });

  it('keeps the URL a secret once it is valid', () => {
    const env = readEnv({ REDIS_URL: 'redis+cluster://:pw@a:1' });
    expect(JSON.stringify(env)).not.toContain('pw@');
    expect(env.redisUrl?.reveal()).toBe('redis+cluster://:pw@a:1');
  });
});

describe('redis config', () => {
  it('defaults to no WAIT, a 500 ms wait budget and a 2 s command timeout', () => {
    expect(ConfigFile.parse({}).redis).toEqual({ waitReplicas: 0, waitTimeout: 500, commandTimeout: 2000 });
    expect(ConfigFile.parse({ redis: { waitReplicas: 1, waitTimeout: '1s' } }).redis.waitTimeout).toBe(1000);
  });

  it('refuses a wait as long as the command timeout, an unknown field and a negative count', () => {
    const paths = (input: unknown) => ConfigFile.safeParse(input).error?.issues.map((i) => i.path.join('.'));
    expect(paths({ redis: { waitTimeout: '2s' } })).toEqual(['redis.waitTimeout']);
    expect(paths({ redis: { waitReplicass: 1 } })).toEqual(['redis']);
    expect(paths({ redis: { waitReplicas: -1 } })).toEqual(['redis.waitReplicas']);
  });
});
