import { z } from 'zod';
import { AlertmanagerLabelMapping } from '../domain/alertmanager-labels.js';
import { DEFAULT_ARTIFACT_BYTES, MAX_ARTIFACT_BYTES } from '../domain/artifact.js';
import { DurationText } from '../domain/duration.js';
import { Mode } from '../domain/incident.js';
import { NamespacePolicy } from '../domain/namespace-policy.js';
import { RedisConfig } from './redis.js';

const SlackId = (what: string, re: RegExp) =>
  z
    .string()
    .regex(re, { error: `expected a Slack ${what} ID such as ${re.source.replace(/[\^$\\[\]+]/g, '')}…` });

export const SlackConfig = z.strictObject({
  /** Where alert-triggered incident threads open. */
  incidentChannel: SlackId('channel', /^[CG][A-Z0-9]{2,}$/),
  /** Where drills started from Slack open their threads (default: the incident channel). */
  drillChannel: SlackId('channel', /^[CG][A-Z0-9]{2,}$/).optional(),
  /** User IDs (U…/W…) or user-group IDs (S…) allowed to run playbook actions. */
  responders: z.array(SlackId('user or user-group', /^[UWS][A-Z0-9]{2,}$/)).default([]),
  /** Allowed to approve break-glass grants and quarantine release. */
  approvers: z.array(SlackId('user or user-group', /^[UWS][A-Z0-9]{2,}$/)).default([]),
  /** Allowed to read incidents (`/egress status`, `timeline`) without acting; responders and approvers may too. */
  viewers: z.array(SlackId('user or user-group', /^[UWS][A-Z0-9]{2,}$/)).default([]),
  /**
   * The work after each ack (store reads, rendering, Slack calls): how many requests' work runs at
   * once, and how many may wait; one more is answered "busy, try again" with nothing done.
   */
  work: z
    .strictObject({
      concurrency: z.number().int().min(1).max(256).default(16),
      queue: z.number().int().min(0).max(100_000).default(1000),
    })
    .prefault({}),
});

/** Break-glass grants: who approves how many, how long they may last, what may be granted. */
export const BreakglassConfig = z.strictObject({
  /** Approvers (other than the requester) needed for a grant or an extension. */
  approvals: z.number().int().min(1).max(5).default(1),
  /** A request nobody decides within this window expires. */
  requestTtl: DurationText.default(30 * 60_000),
  /** The longest a grant may last, per kind, extensions included. */
  maxDuration: z
    .strictObject({
      'egress-exception': DurationText.default(4 * 3_600_000),
      'access-elevation': DurationText.default(4 * 3_600_000),
    })
    .prefault({}),
  /** The ClusterRoles an access elevation may bind (nothing else can be granted). */
  accessRoles: z.array(z.string().min(1)).default(['egress-responder-forensics']),
  /** `cilium`: FQDN destinations become a CiliumNetworkPolicy with toFQDNs; `none`: FQDNs are refused. */
  fqdnPolicy: z.enum(['none', 'cilium']).default('none'),
  /** Also label each object with Kyverno's absolute cleanup time, so the cluster removes it without the bot. */
  kyvernoCleanup: z.boolean().default(false),
  /** How often every replica reconciles grants against the store and the cluster (besides each expiry). */
  reconcileEvery: DurationText.default(60_000),
});
export type BreakglassConfig = z.infer<typeof BreakglassConfig>;

/** The config file. Relative paths resolve against the config file's own directory. */
export const ConfigFile = z.strictObject({
  slack: SlackConfig.optional(),
  /** Absent: the playbooks shipped with egress-responder (the embedded defaults). */
  playbooks: z.string().min(1).optional(),
  contracts: z.string().min(1).optional(),
  drills: z.string().min(1).optional(),
  /** Per-namespace mode overrides: `modes: { prod: soft, 'dev-*': observe }`. */
  modes: z.record(z.string().min(1), Mode).default({}),
  namespaces: NamespacePolicy.prefault({}),
  intake: z
    .strictObject({
      alertmanagerLabels: AlertmanagerLabelMapping.optional(),
      /** How long a sender's request id is remembered, to tell retries from new reports. */
      retryWindow: DurationText.default(24 * 3_600_000),
      maxAlertsPerRequest: z.number().int().min(1).max(10_000).default(1000),
      /**
       * How long one POST /alerts may spend recording its alerts; those not sent by then are
       * answered not_recorded (503, Retry-After). Under a storm a batch waits its turn for the store,
       * so keep this below the sender's own timeout, not near one Redis command's. A store that
       * fails (down, or slower than redis.commandTimeout) ends the request sooner.
       */
      requestTimeout: DurationText.default(10_000),
      /**
       * How an external FQDN destination counts in the fingerprint when no rule of the source's
       * contract matches the host: by its registrable domain (public suffix list), so thousands of
       * unique subdomains of one domain (DNS tunnelling) fold into one incident; or by the exact host.
       */
      fingerprintFqdnBy: z.enum(['registrable-domain', 'host']).default('registrable-domain'),
    })
    .prefault({}),
  /** How the engine keeps incidents moving when a process dies. The defaults suit production. */
  engine: z
    .strictObject({
      /** A run whose process died is resumed by another worker after this long. */
      resumeAfter: DurationText.default(30_000),
      /** Per-incident lock; kept alive by a heartbeat, so it only matters when its holder dies. */
      lockTtl: DurationText.default(15_000),
      /** How often every replica's worker looks for due work (queued runs, resumes, SLA reminders). */
      workEvery: DurationText.default(1_000),
    })
    .prefault({}),
  /** SIGTERM: how the process leaves a pod (set terminationGracePeriodSeconds above `grace`). */
  shutdown: z
    .strictObject({
      /** /readyz answers 503 this long before the server stops taking requests (endpoints catch up). */
      drain: DurationText.default(5_000),
      /** The whole shutdown is bounded by this; past it the process exits 1 (the store holds the state). */
      grace: DurationText.default(25_000),
    })
    .prefault({}),
  /** Evidence and exports (artifacts): always kept in the store and uploaded to the thread. */
  evidence: z
    .strictObject({
      /** Also write each artifact to `<directory>/<incident>/<name>` (relative to the config file). */
      directory: z.string().min(1).optional(),
      /** The cap per artifact in bytes; logs over it keep their end, cut with a marker. */
      maxArtifactBytes: z.number().int().min(4096).max(MAX_ARTIFACT_BYTES).default(DEFAULT_ARTIFACT_BYTES),
    })
    .prefault({}),
  breakglass: BreakglassConfig.prefault({}),
  /** The Redis store: how it behaves, and which Redis when REDIS_URL does not say (config/redis.ts, docs/redis.md). */
  redis: RedisConfig.prefault({}),
});
export type ConfigFile = z.infer<typeof ConfigFile>;
