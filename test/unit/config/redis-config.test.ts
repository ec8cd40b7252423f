import { parseConfig, readEnv } from '../../../src/config/load.js';
import { redisTarget } from '../../../src/config/redis.js';
import { CodedError, type FieldIssue } from '../../../src/domain/errors.js';
import { parseRedisTarget } from '../../../src/domain/redis-target.js';

// The redis: block may name Sentinels or a Cluster instead of REDIS_URL. It ends in the same
// RedisTarget the URL does, its passwords come from the environment only, and every refusal names
// the field, shows the value (never a password) and says what was expected.

function load(yaml: string, env: NodeJS.ProcessEnv = {}) {
  const config = parseConfig(yaml, 'c.yaml', '/etc/er', readEnv(env));
  return redisTarget(config.redis, config.env);
}

function refusal(yaml: string, env: NodeJS.ProcessEnv = {}): { message: string; issues: FieldIssue[] } {
  try {
    load(yaml, env);
  } catch (err) {
    if (!(err instanceof CodedError) || err.code !== 'config_invalid') throw err;
    return { message: err.message, issues: err.issues };
  }
  throw new Error(`expected a refusal of ${yaml}`);
}

const SENTINELS =
  'sentinels: [{ host: 10.0.0.1, port: 26380 }, { host: sentinel-b }, { host: "::1", port: 26381 }]';

describe('redis: block, the topology forms', () => {
  it('sentinels + name (+ db, username, tls) with the passwords from the environment equal the URL form', () => {
    const target = load(
      `redis:\n  ${SENTINELS}\n  name: mymaster\n  db: 3\n  username: app\n  sentinelUsername: watch\n  tls: true\n`,
      { REDIS_PASSWORD: 'p@ss', REDIS_SENTINEL_PASSWORD: 's3' },
    );
    expect(target).toEqual(
      parseRedisTarget(
        'rediss+sentinel://app:p%40ss@10.0.0.1:26380,sentinel-b,[::1]:26381/mymaster/3?sentinelUsername=watch&sentinelPassword=s3',
      ),
    );
  });

  it('cluster seeds (default port 6379) equal the redis+cluster:// form', () => {
    expect(load('redis:\n  cluster: [{ host: a, port: 7000 }, { host: b }]\n')).toEqual(
      parseRedisTarget('redis+cluster://a:7000,b'),
    );
    expect(load('redis:\n  cluster: [{ host: a }]\n', { REDIS_PASSWORD: 'pw' })).toEqual(
      parseRedisTarget('redis+cluster://:pw@a'),
    );
  });

  it('REDIS_URL alone still names the Redis; neither form: none (the embedded store)', () => {
    expect(load('redis: { waitReplicas: 1 }\n', { REDIS_URL: 'redis://h:1/2' })).toEqual({
      kind: 'single',
      url: 'redis://h:1/2',
    });
    expect(load('{}\n')).toBeUndefined();
  });

  it('keeps the passwords secrets in the loaded config', () => {
    const config = parseConfig(
      'redis:\n  cluster: [{ host: a }]\n',
      'c.yaml',
      '/',
      readEnv({ REDIS_PASSWORD: 'hunter2' }),
    );
    expect(JSON.stringify(config)).not.toContain('hunter2');
    expect(config.env.redisPassword?.reveal()).toBe('hunter2');
  });
});

describe('redis: block, refusals', () => {
  it.each([
    [
      'both sentinels and cluster',
      `redis:\n  ${SENTINELS}\n  name: m\n  cluster: [{ host: a }]\n`,
      {
        path: 'redis.cluster',
        message: 'expected either sentinels or cluster, not both (line 4)',
        value: '[{"host":"a"}]',
      },
    ],
    [
      'sentinels without name',
      `redis:\n  ${SENTINELS}\n`,
      {
        path: 'redis.sentinels',
        message: 'expected name (the master name, e.g. mymaster) next to sentinels (line 2)',
        value: expect.stringContaining('[{"host":"10.0.0.1","port":26380},'),
      },
    ],
    [
      'name without sentinels',
      'redis:\n  cluster: [{ host: a }]\n  name: m\n',
      { path: 'redis.name', message: 'only with sentinels (line 3)', value: '"m"' },
    ],
    [
      'db without sentinels',
      'redis:\n  db: 2\n',
      { path: 'redis.db', message: 'only with sentinels (line 2)', value: '2' },
    ],
    [
      'username with neither topology',
      'redis:\n  username: app\n',
      {
        path: 'redis.username',
        message: 'only with sentinels or cluster (a single server takes these in REDIS_URL) (line 2)',
        value: '"app"',
      },
    ],
    [
      'an empty cluster list',
      'redis:\n  cluster: []\n',
      { path: 'redis.cluster', message: 'Too small: expected array to have >=1 items (line 2)', value: '[]' },
    ],
    [
      'a host with its port in it',
      'redis:\n  cluster: [{ host: "a:7000" }, { host: "fe80::1" }]\n',
      {
        path: 'redis.cluster[0].host',
        message: 'expected a host name or an IPv4/IPv6 address (no port) (line 2)',
        value: '"a:7000"',
      },
    ],
    [
      'a port out of range',
      'redis:\n  cluster: [{ host: a, port: 70000 }]\n',
      {
        path: 'redis.cluster[0].port',
        message: 'Too big: expected number to be <=65535 (line 2)',
        value: '70000',
      },
    ],
    [
      'a bad master name',
      `redis:\n  ${SENTINELS}\n  name: "../etc"\n`,
      {
        path: 'redis.name',
        message: 'expected letters, digits, dot, dash and underscore (1-64) (line 3)',
        value: '"../etc"',
      },
    ],
    [
      'a misspelt field',
      'redis:\n  sentinel: [{ host: a }]\n',
      { path: 'redis.sentinel', message: 'unknown field (check the spelling) (line 2)' },
    ],
  ])('%s', (_what, yaml, issue) => {
    const err = refusal(yaml);
    expect(err.message).toBe('c.yaml: invalid config');
    expect(err.issues).toEqual([issue]);
  });

  it('refuses a password in the file, naming the variable to use and never showing it', () => {
    const err = refusal(
      'redis:\n  cluster: [{ host: a }]\n  password: hunter2\n  sentinelPassword: topsecret\n',
    );
    expect(err.issues).toEqual([
      {
        path: 'redis.password',
        message: 'a password never goes in the config file: set REDIS_PASSWORD in the environment (line 3)',
      },
      {
        path: 'redis.sentinelPassword',
        message:
          'a password never goes in the config file: set REDIS_SENTINEL_PASSWORD in the environment (line 4)',
      },
    ]);
    expect(JSON.stringify(err)).not.toMatch(/hunter2|topsecret/);
  });

  it('refuses REDIS_URL and a topology in the file at once, showing the URL without its password', () => {
    const err = refusal(`redis:\n  ${SENTINELS}\n  name: m\n`, { REDIS_URL: 'redis://:hunter2@h:1' });
    expect(err.issues).toEqual([
      {
        path: 'REDIS_URL',
        message: 'names the Redis, and so does redis.sentinels in the config file: keep one of the two',
        value: 'redis://***@h:1',
      },
    ]);
  });

  it('refuses a password variable that nothing in the config takes', () => {
    expect(refusal('{}\n', { REDIS_URL: 'redis://h:1', REDIS_PASSWORD: 'x' }).issues).toEqual([
      {
        path: 'REDIS_PASSWORD',
        message: 'only with redis.sentinels or redis.cluster in the config file (REDIS_URL holds its own)',
      },
    ]);
    expect(refusal('redis:\n  cluster: [{ host: a }]\n', { REDIS_SENTINEL_PASSWORD: 'x' }).issues).toEqual([
      {
        path: 'REDIS_SENTINEL_PASSWORD',
        message: 'only with redis.sentinels in the config file (REDIS_URL takes ?sentinelPassword= instead)',
      },
    ]);
  });
});
