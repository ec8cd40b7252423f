import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

// A real Prometheus Alertmanager (Debian's prometheus-alertmanager, 0.25 on the CI machine) as an
// alert sender for tests: one private process per call, on a loopback port the OS picks, with its
// own config file and data dir in a fresh temp dir, clustering off. Never the Debian package's own
// service (its /etc config, :9093/:9094 and /var/lib data dir are not touched).
//
// Missing binary → startAlertmanager() throws (the test fails loudly; nothing is skipped):
//   "Alertmanager binary not found: install prometheus-alertmanager (bash .ci/run does)"
// ALERTMANAGER_BIN=/path/to/alertmanager overrides the lookup.
//
// No process is left behind: stop() ends it and removes the temp dir; a process 'exit' handler kills
// whatever is still running; and the binary runs under a small sh watchdog that holds a pipe from
// this process, so even if the jest worker is SIGKILLed the pipe closes and the watchdog ends
// Alertmanager.

export interface StartAlertmanagerOptions {
  /** Where the receiver's webhook_config sends notifications (our POST /alerts, or a test server). */
  webhookUrl: string;
  /** Sent as `Authorization: Bearer <token>` (http_config.authorization). Omitted → no header. */
  bearerToken?: string;
  /** route.group_by. Omitted → Alertmanager's default: every alert in one group. ['...'] = no grouping. */
  groupBy?: string[];
  /** route.group_wait; default '100ms'. */
  groupWait?: string;
  /** route.group_interval; default '1s'. Also when a failed (4xx/5xx) notification is sent again. */
  groupInterval?: string;
  /** route.repeat_interval; default '1h'. */
  repeatInterval?: string;
  /** webhook_configs[].send_resolved; default true (Alertmanager's own default). */
  sendResolved?: boolean;
}

export interface PostableAlert {
  labels: Record<string, string>;
  annotations?: Record<string, string>;
  /** RFC 3339; omitted → Alertmanager uses the time it received the alert. */
  startsAt?: string;
  /** RFC 3339; in the past → the alert is resolved. Omitted → now + resolve_timeout (5m). */
  endsAt?: string;
  generatorURL?: string;
}

export interface RunningAlertmanager {
  /** The API base, e.g. http://127.0.0.1:41969 (GET `${url}/api/v2/status`, `${url}/-/ready`). */
  url: string;
  /** POST /api/v2/alerts; rejects unless Alertmanager answers 2xx. */
  pushAlerts(alerts: PostableAlert[]): Promise<void>;
  /** Ends the process (SIGTERM, then SIGKILL after 5 s) and removes the temp dir. Idempotent. */
  stop(): Promise<void>;
  /** Everything the process logged so far (logfmt, --log.level=debug; last ~2 MB). */
  logs(): string;
}

export const ALERTMANAGER_NOT_FOUND =
  'Alertmanager binary not found: install prometheus-alertmanager (bash .ci/run does)';

const START_TIMEOUT_MS = 15_000; // a loaded 2-core machine; it is ready in ~0.1–0.5 s normally
const STOP_TIMEOUT_MS = 5_000;
const MAX_LOG_CHARS = 2_000_000;

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The Alertmanager binary: $ALERTMANAGER_BIN, then prometheus-alertmanager / alertmanager on PATH. */
export function findAlertmanagerBinary(): string | undefined {
  const override = process.env.ALERTMANAGER_BIN;
  if (override) return isExecutable(override) ? override : undefined;
  const dirs = (process.env.PATH ?? '').split(delimiter).filter(Boolean);
  for (const name of ['prometheus-alertmanager', 'alertmanager']) {
    for (const dir of dirs) {
      const candidate = join(dir, name);
      if (isExecutable(candidate)) return candidate;
    }
  }
  for (const candidate of ['/usr/bin/prometheus-alertmanager', '/usr/local/bin/alertmanager']) {
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

export function alertmanagerConfig(opts: StartAlertmanagerOptions): Record<string, unknown> {
  const webhook: Record<string, unknown> = {
    url: opts.webhookUrl,
    send_resolved: opts.sendResolved ?? true,
    max_alerts: 0, // unlimited
  };
  if (opts.bearerToken !== undefined) {
    webhook.http_config = { authorization: { type: 'Bearer', credentials: opts.bearerToken } };
  }
  const route: Record<string, unknown> = {
    receiver: 'egress-responder',
    group_wait: opts.groupWait ?? '100ms',
    group_interval: opts.groupInterval ?? '1s',
    repeat_interval: opts.repeatInterval ?? '1h',
  };
  if (opts.groupBy !== undefined) route.group_by = opts.groupBy;
  return { route, receivers: [{ name: 'egress-responder', webhook_configs: [webhook] }] };
}

// $0 is the binary. Alertmanager runs in the background (stdin /dev/null); the shell prints its pid,
// then blocks reading the pipe from node. EOF (stop(), or node died) or a signal → SIGTERM to
// Alertmanager, wait for it, remove the temp dir ($EGRESS_AM_DIR).
const WATCHDOG = [
  '"$0" "$@" & am=$!',
  'echo "$am"',
  'finish() { kill -TERM "$am" 2>/dev/null; wait "$am"; rc=$?; rm -rf -- "$EGRESS_AM_DIR"; exit "$rc"; }',
  'trap finish TERM INT HUP',
  'while read -r _; do :; done',
  'finish',
].join('\n');

const live = new Set<() => void>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const kill of live) kill();
  });
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

export async function startAlertmanager(opts: StartAlertmanagerOptions): Promise<RunningAlertmanager> {
  const bin = findAlertmanagerBinary();
  if (!bin) throw new Error(ALERTMANAGER_NOT_FOUND);

  const dir = mkdtempSync(join(tmpdir(), 'egress-am-'));
  const configFile = join(dir, 'alertmanager.yml');
  // JSON is YAML: no quoting questions for URLs or tokens.
  writeFileSync(configFile, `${JSON.stringify(alertmanagerConfig(opts), null, 2)}\n`);

  const args = [
    `--config.file=${configFile}`,
    `--storage.path=${join(dir, 'data')}`,
    '--web.listen-address=127.0.0.1:0', // the OS picks a free port; read back from the log
    '--cluster.listen-address=', // empty: no HA mode, no gossip port, no peer settle wait
    '--log.level=debug',
  ];
  const child = spawn('/bin/sh', ['-c', WATCHDOG, bin, ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, EGRESS_AM_DIR: dir },
  });

  let logText = '';
  let amPid: number | undefined;
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    logText += chunk;
    if (logText.length > MAX_LOG_CHARS) logText = logText.slice(-MAX_LOG_CHARS);
  });
  child.stdout?.setEncoding('utf8');
  let stdoutText = '';
  child.stdout?.on('data', (chunk: string) => {
    stdoutText += chunk;
    const line = /^(\d+)\n/.exec(stdoutText);
    if (line && amPid === undefined) amPid = Number(line[1]);
  });
  child.stdin?.on('error', () => {}); // EPIPE if the watchdog is gone already
  const exitPromise = new Promise<void>((resolve) => {
    if (exited(child)) resolve();
    else child.once('exit', () => resolve());
  });

  const killNow = (): void => {
    if (amPid !== undefined) {
      try {
        process.kill(amPid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    if (!exited(child)) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  installExitHook();
  live.add(killNow);

  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      child.stdin?.end(); // watchdog: SIGTERM to Alertmanager, wait for it
      let timer: NodeJS.Timeout | undefined;
      const timedOut = await Promise.race([
        exitPromise.then(() => false),
        new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(true), STOP_TIMEOUT_MS);
        }),
      ]);
      clearTimeout(timer);
      if (timedOut) {
        killNow();
        await exitPromise;
      }
      live.delete(killNow);
      rmSync(dir, { recursive: true, force: true });
    })();
    return stopped;
  };

  const fail = async (why: string): Promise<never> => {
    await stop();
    throw new Error(`${why}\n--- alertmanager log (${bin}) ---\n${logText}`);
  };

  // 1. The address it listens on (`msg="Listening on" address=127.0.0.1:41969`).
  const deadline = Date.now() + START_TIMEOUT_MS;
  let url: string | undefined;
  while (!url) {
    const m = /msg="Listening on" address=(127\.0\.0\.1:\d+)/.exec(logText);
    if (m) url = `http://${m[1]}`;
    else if (exited(child)) return fail(`alertmanager exited (code ${child.exitCode}) before listening`);
    else if (Date.now() > deadline) return fail(`alertmanager did not listen within ${START_TIMEOUT_MS} ms`);
    else await delay(20);
  }
  // 2. Ready (config loaded, API up).
  for (;;) {
    try {
      const res = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.ok) break;
    } catch {
      // not yet
    }
    if (exited(child)) return fail(`alertmanager exited (code ${child.exitCode}) before ready`);
    if (Date.now() > deadline) return fail(`alertmanager at ${url} not ready within ${START_TIMEOUT_MS} ms`);
    await delay(25);
  }

  const base = url;
  return {
    url: base,
    async pushAlerts(alerts: PostableAlert[]): Promise<void> {
      const res = await fetch(`${base}/api/v2/alerts`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(alerts),
        signal: AbortSignal.timeout(5000),
      });
      const text = await res.text();
      if (!res.ok) throw new Error(`POST ${base}/api/v2/alerts answered ${res.status}: ${text}`);
    },
    stop,
    logs: () => logText,
  };
}
