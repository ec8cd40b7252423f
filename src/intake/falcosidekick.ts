// Format 3: Falco events as Falcosidekick forwards them (one object or an array of them):
// {uuid, output, priority, rule, time, output_fields: {...}, source, tags, hostname}.
import { isIP } from 'node:net';
import { z } from 'zod';
import type { EgressAlert, ParsedBatch } from '../domain/alert.js';
import type { FieldIssue } from '../domain/errors.js';
import { BatchResult, emptyBatch, maxAlertsOf, tooDeep, tooMany } from './batch-result.js';
import { ExtraBag } from './extra-bag.js';
import { checkName, checkNamespace, checkPodName, MAX_SUMMARY_LENGTH } from './field-checks.js';
import { type ItemPath, indexPath, rootPath, schemaIssues } from './item-path.js';
import { isServiceName, SERVICE_MESSAGE } from './kube-names.js';
import type { ParseOptions } from './options.js';
import { checkTime } from './time-fields.js';
import { isPlainObject, nestsDeeperThan, own, show, truncate } from './untrusted-values.js';
import { workloadFromPodName } from './workload-name.js';

const FalcoEvent = z.looseObject(
  {
    uuid: z.string({ error: 'expected a string (the Falcosidekick event id)' }).optional(),
    output: z.string({ error: 'expected a string (the Falco output line)' }).optional(),
    priority: z.string({ error: 'expected a string (the Falco priority)' }).optional(),
    rule: z.string({ error: 'expected a string (the Falco rule name)' }).optional(),
    time: z.string({ error: 'expected an RFC 3339 time' }).optional(),
    output_fields: z.record(z.string(), z.unknown(), { error: 'expected an object of Falco fields' }),
    source: z.string({ error: 'expected a string (the Falco event source)' }).optional(),
    tags: z
      .array(z.string({ error: 'expected a string' }), { error: 'expected an array of strings' })
      .nullish(),
    hostname: z.string({ error: 'expected a string (the Falco host)' }).optional(),
  },
  { error: 'expected an object (one Falco event)' },
);

/** Fields consumed into source/destination; every other non-empty output field is kept in extra. */
const NS = 'k8s.ns.name';
const POD = 'k8s.pod.name';

/** Detection: output_fields plus at least one of Falco's own envelope fields. */
export function looksLikeFalco(value: unknown): boolean {
  return (
    isPlainObject(value) &&
    isPlainObject(own(value, 'output_fields')) &&
    ['rule', 'priority', 'output'].some((k) => Object.hasOwn(value, k))
  );
}

/** Falco renders unknown values as `<NA>` (text output) or null (JSON). */
function present(v: unknown): boolean {
  return v !== undefined && v !== null && v !== '' && v !== '<NA>' && v !== 'N/A';
}

/** The remote side of `fd.name`: `10.0.0.5:43210->203.0.113.9:443` or `[::1]:5->[2001:db8::1]:443`. */
export function remoteOfFdName(name: string): { ip: string; port: number } | undefined {
  const arrow = name.indexOf('->');
  if (arrow < 0) return undefined;
  const remote = name.slice(arrow + 2).trim();
  const m = /^\[?([0-9A-Fa-f:.]+?)\]?:(\d{1,5})$/.exec(remote);
  if (!m) return undefined;
  const ip = m[1]!;
  const port = Number(m[2]);
  return isIP(ip) !== 0 && port <= 65535 ? { ip, port } : undefined;
}

function asIp(v: unknown): string | undefined {
  return typeof v === 'string' && isIP(v) !== 0 ? v : undefined;
}

function asPort(v: unknown): number | undefined {
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d{1,5}$/.test(v) ? Number(v) : Number.NaN;
  return Number.isInteger(n) && n >= 0 && n <= 65535 ? n : undefined;
}

function k8sField(
  fields: Record<string, unknown>,
  key: string,
  at: ItemPath,
  issues: FieldIssue[],
): string | undefined {
  const v = own(fields, key);
  const path = at.field(`output_fields.${key}`);
  if (!present(v)) {
    const seen = v === undefined ? 'missing' : v === null ? 'null' : JSON.stringify(v);
    issues.push({
      path,
      message: `the event is not from a Kubernetes workload (a host process?): ${key} is ${seen}; only pod egress can be handled`,
    });
    return undefined;
  }
  return key === NS
    ? checkNamespace(v, path, 'the pod namespace', issues, { required: true })
    : checkPodName(v, path, 'the pod name', issues, { required: true });
}

/** The workload a pod belongs to, which must itself be usable as a service name (label value). */
function serviceOfPod(pod: string, at: ItemPath, issues: FieldIssue[]): string | undefined {
  const service = workloadFromPodName(pod);
  if (isServiceName(service)) return service;
  issues.push({
    path: at.field(`output_fields.${POD}`),
    message: `its workload name ${show(service)} is not a service name: ${SERVICE_MESSAGE}`,
    value: show(pod),
  });
  return undefined;
}

/**
 * Parse one Falco event at `at`. Issues go to `issues`; returns undefined when there were any.
 * The caller has already checked nesting depth.
 */
export function parseFalcoEvent(
  value: unknown,
  at: ItemPath,
  opts: ParseOptions,
  issues: FieldIssue[],
): EgressAlert | undefined {
  const before = issues.length;
  const checked = FalcoEvent.safeParse(value);
  if (!checked.success) issues.push(...schemaIssues(checked.error, value, at));
  if (!isPlainObject(value)) return undefined;
  const fields = own(value, 'output_fields');
  if (!isPlainObject(fields)) return undefined;

  const namespace = k8sField(fields, NS, at, issues);
  const pod = k8sField(fields, POD, at, issues);
  const service = pod === undefined ? undefined : serviceOfPod(pod, at, issues);

  // Remote address: fd.rip, else fd.sip (the server: the remote side of an outbound connect), else fd.name.
  const fdName = own(fields, 'fd.name');
  const fromName = typeof fdName === 'string' ? remoteOfFdName(fdName) : undefined;
  const ip = asIp(own(fields, 'fd.rip')) ?? asIp(own(fields, 'fd.sip')) ?? fromName?.ip;
  if (ip === undefined) {
    const seenKey = ['fd.rip', 'fd.sip', 'fd.name'].find((k) => present(own(fields, k)));
    issues.push({
      path: at.field(`output_fields.${seenKey ?? 'fd.rip'}`),
      message:
        'no remote IP address: expected fd.rip, fd.sip or fd.name like 10.0.0.5:43210->203.0.113.9:443',
      ...(seenKey ? { value: show(own(fields, seenKey)) } : {}),
    });
  }
  const port = asPort(own(fields, 'fd.rport')) ?? asPort(own(fields, 'fd.sport')) ?? fromName?.port;
  if (port === undefined) {
    const seenKey = ['fd.rport', 'fd.sport'].find((k) => present(own(fields, k)));
    issues.push({
      path: at.field(`output_fields.${seenKey ?? 'fd.rport'}`),
      message: 'no remote port: expected fd.rport, fd.sport or fd.name like 10.0.0.5:43210->203.0.113.9:443',
      ...(seenKey ? { value: show(own(fields, seenKey)) } : {}),
    });
  }
  const proto = own(fields, 'fd.l4proto');
  const protocol = typeof proto === 'string' && present(proto) ? proto.toLowerCase() : 'tcp';

  const ts = checkTime(own(value, 'time'), at.field('time'), opts.receivedAt, issues, { allowNumber: false });
  const rule = checkName(own(value, 'rule'), at.field('rule'), 'the Falco rule name', issues, {
    required: false,
  });
  const uuid = checkName(own(value, 'uuid'), at.field('uuid'), 'the Falcosidekick event id', issues, {
    required: false,
  });

  if (
    issues.length > before ||
    !namespace ||
    !pod ||
    !service ||
    ip === undefined ||
    port === undefined ||
    !ts
  ) {
    return undefined;
  }

  const extra = new ExtraBag();
  for (const key of ['rule', 'priority', 'hostname', 'source']) extra.add(key, own(value, key));
  const tags = own(value, 'tags');
  if (Array.isArray(tags) && tags.length > 0) extra.add('tags', tags.join(','));
  for (const [key, v] of Object.entries(fields)) {
    if (key !== NS && key !== POD && present(v)) extra.add(key, v);
  }
  const output = own(value, 'output');
  const summary =
    typeof output === 'string' && output.trim() !== '' ? truncate(output, MAX_SUMMARY_LENGTH) : undefined;

  return {
    origin: 'falcosidekick',
    state: 'firing',
    ...(rule ? { event: rule } : {}),
    source: { service, namespace, pod },
    destination: { type: 'ip', name: ip, port, protocol },
    ...(uuid ? { requestId: uuid } : {}),
    count: 1,
    firstSeen: ts,
    lastSeen: ts,
    ...(summary ? { summary } : {}),
    extra: extra.toRecord(),
  };
}

/** One Falco event or an array of them (already JSON-parsed). Invalid events are named; the valid ones are kept. */
export function parseFalcosidekick(value: unknown, opts: ParseOptions): ParsedBatch {
  const max = maxAlertsOf(opts);
  if (Array.isArray(value) && value.length > max) throw tooMany(value.length, max, '', 'falcosidekick');
  if (nestsDeeperThan(value)) throw tooDeep('', 'falcosidekick');
  const items: Array<[unknown, ItemPath]> = Array.isArray(value)
    ? value.map((v, i) => [v, indexPath('', i)])
    : [[value, rootPath]];
  if (items.length === 0) throw emptyBatch('', 'falcosidekick', 'Falco event');
  const batch = new BatchResult('falcosidekick');
  for (const [item, at] of items) {
    const issues: FieldIssue[] = [];
    batch.item(parseFalcoEvent(item, at, opts, issues), issues, at);
  }
  return batch.finish();
}
