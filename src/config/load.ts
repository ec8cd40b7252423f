import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { CodedError } from '../domain/errors.js';
import { parseRedisTarget } from '../domain/redis-target.js';
import { readYaml, validateYaml, withLines } from '../domain/yaml.js';
import { packageRoot } from './paths.js';
import { redisTarget, secretsInFile } from './redis.js';
import { ConfigFile } from './schema.js';
import { Secret } from './secret.js';

/** Environment the process reads; secrets are wrapped so they cannot be logged by accident. */
export interface RuntimeEnv {
  slackBotToken?: Secret;
  slackSigningSecret?: Secret;
  slackAppToken?: Secret;
  slackApiUrl?: string;
  redisUrl?: Secret;
  /** The data nodes' password when the config file names Sentinels or a Cluster (config/redis.ts). */
  redisPassword?: Secret;
  redisSentinelPassword?: Secret;
  alertWebhookToken?: Secret;
  port: number;
  logLevel: string;
  kubeconfig?: string;
  /** Set inside a pod: the in-cluster config is used when KUBECONFIG is not. */
  kubernetesServiceHost?: string;
}

export interface Config extends Omit<ConfigFile, 'playbooks' | 'contracts' | 'drills'> {
  /** Absolute paths. */
  playbooks: string;
  contracts: string;
  drills: string;
  /** The file it came from, or `(embedded defaults)`. */
  source: string;
  env: RuntimeEnv;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export function readEnv(env: NodeJS.ProcessEnv): RuntimeEnv {
  const secret = (name: string) => (env[name] ? new Secret(env[name]!) : undefined);
  const issues = [];
  const port = env.PORT === undefined || env.PORT === '' ? 3000 : Number(env.PORT);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    issues.push({
      path: 'PORT',
      message: 'expected a TCP port number (0-65535)',
      value: JSON.stringify(env.PORT),
    });
  }
  const logLevel = env.LOG_LEVEL || 'info';
  if (!LOG_LEVELS.includes(logLevel)) {
    issues.push({
      path: 'LOG_LEVEL',
      message: `expected one of ${LOG_LEVELS.join(', ')}`,
      value: JSON.stringify(logLevel),
    });
  }
  if (env.SLACK_API_URL && !/^https?:\/\/.+\/$/.test(env.SLACK_API_URL)) {
    issues.push({
      path: 'SLACK_API_URL',
      message: 'expected an http(s) URL ending in / (like https://slack.com/api/)',
      value: JSON.stringify(env.SLACK_API_URL),
    });
  }
  if (env.REDIS_URL) {
    try {
      parseRedisTarget(env.REDIS_URL);
    } catch (err) {
      if (!(err instanceof CodedError)) throw err;
      issues.push(...err.issues);
    }
  }
  if (issues.length > 0) throw new CodedError('config_invalid', 'invalid environment', { issues });
  const out: RuntimeEnv = { port, logLevel };
  const put = <K extends keyof RuntimeEnv>(k: K, v: RuntimeEnv[K] | undefined) => {
    if (v !== undefined) out[k] = v;
  };
  put('slackBotToken', secret('SLACK_BOT_TOKEN'));
  put('slackSigningSecret', secret('SLACK_SIGNING_SECRET'));
  put('slackAppToken', secret('SLACK_APP_TOKEN'));
  put('slackApiUrl', env.SLACK_API_URL || undefined);
  put('redisUrl', secret('REDIS_URL'));
  put('redisPassword', secret('REDIS_PASSWORD'));
  put('redisSentinelPassword', secret('REDIS_SENTINEL_PASSWORD'));
  put('alertWebhookToken', secret('ALERT_WEBHOOK_TOKEN'));
  put('kubeconfig', env.KUBECONFIG || undefined);
  put('kubernetesServiceHost', env.KUBERNETES_SERVICE_HOST || undefined);
  return out;
}

/** Parse a config file's text; `base` is the directory relative paths resolve against. */
export function parseConfig(text: string, file: string, base: string, env: RuntimeEnv): Config {
  const src = readYaml(text, file, 'config_invalid');
  const secrets = secretsInFile(src.data);
  if (secrets.length > 0) {
    throw new CodedError('config_invalid', `${file}: invalid config`, { issues: withLines(src, secrets) });
  }
  const data = validateYaml(
    { ...src, data: src.data ?? {} },
    ConfigFile,
    'config_invalid',
    () => 'invalid config',
  );
  redisTarget(data.redis, env); // a Redis named twice, or a password nothing takes: refused before anything starts
  // A path the file names resolves against the file's directory; one it leaves out is the embedded default.
  const abs = (p: string | undefined, embedded: string) =>
    p === undefined ? resolve(packageRoot, embedded) : isAbsolute(p) ? p : resolve(base, p);
  return {
    ...data,
    playbooks: abs(data.playbooks, 'playbooks'),
    contracts: abs(data.contracts, 'playbooks/contracts'),
    drills: abs(data.drills, 'playbooks/drills'),
    evidence: {
      ...data.evidence,
      ...(data.evidence.directory ? { directory: resolve(base, data.evidence.directory) } : {}),
    },
    source: file,
    env,
  };
}

/** Load the config file at `path`, or the embedded defaults (the shipped playbooks/) without one. */
export async function loadConfig(env: NodeJS.ProcessEnv, path?: string): Promise<Config> {
  const runtime = readEnv(env);
  if (!path) return parseConfig('{}', '(embedded defaults)', packageRoot, runtime);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CodedError(
      'config_invalid',
      `cannot read config file ${path}: ${code === 'ENOENT' ? 'no such file' : code}`,
    );
  }
  return parseConfig(text, path, dirname(resolve(path)), runtime);
}
