// Golden Block Kit JSON for every message the bot renders (golden-files.ts says how they work;
// break-glass's messages and modals are in golden-breakglass.test.ts).
import type { IncidentStatus, StepState, StepStatus } from '../../../../src/domain/incident.js';
import type { Step } from '../../../../src/playbooks/schema.js';
import {
  incidentView,
  renderError,
  renderHelp,
  renderIncidentRoot,
  renderNotice,
  renderPreview,
  renderRefusal,
  renderStep,
  renderTimelineMessage,
  renderVerification,
  type SlackMessage,
} from '../../../../src/slack/blocks/index.js';
import { anAlert } from '../../../builders/alert.js';
import { anIncident, aTimelineEvent } from '../../../builders/incident.js';
import { expectGolden, expectSafe } from './golden-files.js';

const AT = '2026-11-25T14:03:12.123Z';
const LATER = '2026-11-25T14:09:40.500Z';

function aStep(over: Partial<Step> = {}): Step {
  return {
    id: 'contain',
    title: 'Contain the source workload',
    description: 'Quarantine the source pods and deny their egress.',
    checklist: [],
    urgent: false,
    actions: [],
    notes: [],
    ...over,
  };
}

function aState(status: StepStatus, over: Partial<StepState> = {}): StepState {
  return { id: 'contain', status, checklist: {}, approvals: [], actions: [], ...over };
}

const quarantinePlan = {
  summary: 'label 2 pods quarantine=true in prod',
  preview: 'pods:\n  - payments-api-7d9f8-abcde\n  - payments-api-7d9f8-fghij',
  changes: true,
  data: {},
};
const denyPlan = {
  summary: 'create NetworkPolicy egress-quarantine-payments-api in prod',
  preview:
    'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: egress-quarantine-payments-api\n  namespace: prod\nspec:\n  podSelector:\n    matchLabels:\n      quarantine: "true"\n  policyTypes: [Egress]\n  egress: []',
  changes: true,
  data: {},
};

function plannedActions(status: 'planned' | 'applied' | 'verified' | 'failed' | 'skipped' = 'planned') {
  return [
    {
      key: 'k8s.quarantine',
      uses: 'k8s.quarantine',
      status,
      dryRun: false,
      attempts: status === 'planned' ? 0 : 1,
      plan: quarantinePlan,
      ...(status === 'applied' || status === 'verified'
        ? { outcome: { status: 'applied', summary: 'labelled 2 pods quarantine=true', data: {} } }
        : {}),
      ...(status === 'verified'
        ? { verification: { ok: true, line: 'Verification: 2 of 2 pods quarantined', data: {} } }
        : {}),
      ...(status === 'failed'
        ? { error: { code: 'k8s_forbidden', message: 'pods "payments-api" is forbidden' } }
        : {}),
      ...(status === 'skipped' ? { reason: 'observe mode: recorded, not applied' } : {}),
      updatedAt: AT,
    },
    {
      key: 'deny',
      uses: 'k8s.deny-egress',
      status: status === 'verified' ? 'verified' : status,
      dryRun: false,
      attempts: status === 'planned' ? 0 : 1,
      plan: denyPlan,
      ...(status === 'applied' || status === 'verified'
        ? {
            outcome: {
              status: 'applied',
              summary: 'created NetworkPolicy egress-quarantine-payments-api',
              data: {},
            },
          }
        : {}),
      ...(status === 'verified'
        ? {
            verification: {
              ok: false,
              line: 'Verification: egress still open via policy allow-all-egress',
              data: {},
            },
          }
        : {}),
      ...(status === 'failed'
        ? { error: { code: 'k8s_forbidden', message: 'not attempted: an earlier action failed' } }
        : {}),
      ...(status === 'skipped' ? { reason: 'observe mode: recorded, not applied' } : {}),
      updatedAt: AT,
    },
  ] as StepState['actions'];
}

const checklist = [
  { id: 'page-owner', text: 'Page the owning team (#payments-oncall)' },
  { id: 'check-deploys', text: 'Check recent deploys of payments-api' },
  { id: 'snapshot', text: 'Snapshot the pod before restarting it' },
];

describe('golden: incident root message', () => {
  const statuses: IncidentStatus[] = [
    'open',
    'acknowledged',
    'containment_incomplete',
    'contained',
    'resolved',
    'closed',
  ];
  it.each(statuses)('%s', (status) => {
    const incident = anIncident({
      status,
      count: 51,
      lastSeen: LATER,
      verdict: {
        kind: 'violation',
        reason: 'unknown_destination',
        message: 'payments-api may not call exfil.example.net:443 (no allowed_external rule matches)',
        contract: { service: 'payments-api', file: 'contracts/payments-api.yaml' },
      },
      ...(status === 'open' ? {} : { commander: 'slack:U0AAA' }),
      ...(status === 'closed' ? { closeReason: 'false positive: a new payment provider' } : {}),
    });
    const msg = renderIncidentRoot(incidentView(incident, 'Egress anomaly'));
    expectSafe(msg);
    expectGolden(`root-${status}`, msg);
  });

  it('drill in hard mode, with a pod and a summary', () => {
    const incident = anIncident({
      drill: true,
      mode: 'hard',
      alert: anAlert({
        source: { pod: 'payments-api-7d9f8-abcde' },
        summary: 'Outbound connection to a host never seen before',
      }),
    });
    const msg = renderIncidentRoot(incidentView(incident));
    expectSafe(msg);
    expectGolden('root-drill-hard', msg);
  });

  it('hostile alert fields', () => {
    const incident = anIncident({
      alert: anAlert({
        source: {
          service: '<!channel> pay*ments*',
          namespace: 'prod\n*Status:* resolved',
          identity: '<@U0EVIL> _sa_',
        },
        destination: { name: '<https://evil.example|click me>', type: 'fqdn' },
        summary: '@here ~urgent~ `rm -rf` & <!everyone>',
      }),
    });
    const msg = renderIncidentRoot(incidentView(incident));
    expectSafe(msg);
    expectGolden('root-hostile', msg);
  });
});

describe('golden: step messages', () => {
  const cases: [string, Step, StepState][] = [
    ['pending', aStep(), aState('pending')],
    ['running', aStep(), aState('running', { startedAt: AT, actions: plannedActions('planned') })],
    [
      'awaiting_input',
      aStep({ id: 'triage', title: 'Triage', checklist, sla: 900_000 }),
      aState('awaiting_input', {
        id: 'triage',
        startedAt: AT,
        checklist: { 'page-owner': { by: 'slack:U0AAA', at: LATER } },
      }),
    ],
    [
      'awaiting_confirmation',
      aStep({ notes: ['Quarantine does not stop connections already open; restart the pods to cut them.'] }),
      aState('awaiting_confirmation', { startedAt: AT, actions: plannedActions('planned') }),
    ],
    [
      'awaiting_approval',
      aStep({ approval: { from: 'approvers', count: 2, allow_requester: false } }),
      aState('awaiting_approval', {
        startedAt: AT,
        requestedBy: 'slack:U0AAA',
        approvals: [{ by: 'slack:U0CCC', at: LATER, decision: 'approve' }],
        actions: plannedActions('planned'),
      }),
    ],
    [
      'completed',
      aStep({ sla: 600_000, notes: ['Egress through a node-local proxy is not covered.'] }),
      aState('completed', {
        startedAt: AT,
        endedAt: LATER,
        confirmedBy: { by: 'slack:U0AAA', at: LATER },
        actions: plannedActions('verified'),
      }),
    ],
    [
      // What it achieved per layer follows "completed"; an optional layer's failure is named.
      'completed-layers',
      aStep(),
      aState('completed', {
        startedAt: AT,
        endedAt: LATER,
        actions: plannedActions('verified'),
        result: {
          state: 'applied',
          line: 'contained at L3/L4 (verified); L7: not applied: forbidden (RBAC: patch authorizationpolicies in istio-system)',
        },
      }),
    ],
    [
      // Nothing reached the cluster: never ✅ completed.
      'completed-planned-only',
      aStep(),
      aState('completed', {
        startedAt: AT,
        endedAt: LATER,
        actions: plannedActions('skipped').map((a) => ({
          ...a,
          reason: 'no cluster configured: planned only',
        })),
        result: { state: 'planned_only', line: 'planned only — nothing applied (no cluster configured)' },
      }),
    ],
    [
      'skipped',
      aStep(),
      aState('skipped', { startedAt: AT, endedAt: AT, reason: 'when: verdict is allowed', actions: [] }),
    ],
    [
      'failed',
      aStep(),
      aState('failed', {
        startedAt: AT,
        endedAt: LATER,
        reason: 'k8s.quarantine failed: pods is forbidden',
        actions: plannedActions('failed'),
        slaNotifiedAt: LATER,
      }),
    ],
  ];
  it.each(cases)('%s', (name, step, state) => {
    const msg = renderStep(anIncident(), step, state);
    expectSafe(msg);
    expectGolden(`step-${name}`, msg);
  });

  it('completed checklist (static)', () => {
    const msg = renderStep(
      anIncident(),
      aStep({ id: 'triage', title: 'Triage', checklist }),
      aState('completed', {
        id: 'triage',
        startedAt: AT,
        endedAt: LATER,
        checklist: {
          'page-owner': { by: 'slack:U0AAA', at: LATER },
          snapshot: { by: 'slack:U0BBB', at: LATER },
        },
      }),
    );
    expectSafe(msg);
    expectGolden('step-completed-checklist', msg);
  });
});

describe('golden: other messages', () => {
  it('preview', () => {
    const blocks = renderPreview([
      { uses: 'k8s.quarantine', summary: quarantinePlan.summary, preview: quarantinePlan.preview },
      { uses: 'k8s.deny-egress', summary: denyPlan.summary, preview: denyPlan.preview },
      { uses: 'notify.webhook', summary: 'POST to the payments on-call webhook' },
    ]);
    expectSafe(blocks);
    expectGolden('preview', blocks);
  });

  it('verification', () => {
    const blocks = [
      renderVerification('Verification: contained', true),
      renderVerification('Verification: egress still open via allow-all-egress', false),
      renderVerification('Verification: pending'),
    ];
    expectSafe(blocks);
    expectGolden('verification', blocks);
  });

  it('timeline', () => {
    const events = [
      aTimelineEvent({
        id: 'e1',
        kind: 'incident.opened',
        summary: 'Incident opened from egress-event alert',
      }),
      aTimelineEvent({
        id: 'e2',
        at: '2026-11-25T14:04:00.000Z',
        kind: 'alert.folded',
        summary: '50 repeats folded',
      }),
      aTimelineEvent({
        id: 'e3',
        at: '2026-11-25T14:05:00.000Z',
        kind: 'status.changed',
        actor: 'slack:U0AAA',
        summary: 'open → acknowledged: taken in command',
      }),
      aTimelineEvent({
        id: 'e4',
        at: '2026-11-25T14:06:00.000Z',
        kind: 'note',
        actor: 'slack:U0BBB',
        summary: 'owner says: *not* ours <!here>',
      }),
    ];
    const msg = renderTimelineMessage(anIncident(), events);
    expectSafe(msg);
    expectGolden('timeline', msg);
  });

  it('help', () => {
    const msg = renderHelp([
      { usage: 'help', description: 'This list.' },
      { usage: 'status [id]', description: 'One incident, or every open one.' },
      { usage: 'ack <id>', description: 'Take command of an incident.' },
      { usage: 'contain <id>', description: 'Preview containment, then confirm it.' },
      { usage: 'note <id> <text>', description: 'Add a note to the timeline.' },
      { usage: 'timeline <id> [md|json]', description: 'The timeline, or an export of it.' },
      { usage: 'close <id> [reason]', description: 'Close an incident.' },
    ]);
    expectSafe(msg);
    expectGolden('help', msg);
  });

  it('ephemeral answers', () => {
    const msgs = {
      error: renderError('No incident inc-20261125-9999. Try /egress status.'),
      notice: renderNotice('breakglass is not yet available.'),
      refusal: renderRefusal('contain incident inc-20261125-0001', 'responder'),
    };
    for (const m of Object.values(msgs)) expectSafe(m);
    expectGolden('ephemeral', msgs as unknown as SlackMessage);
  });
});
