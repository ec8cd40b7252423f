// Golden Block Kit JSON for break-glass: the grant's thread message in each state, `/egress grants`,
// the thread's announcements, and every modal (golden-files.ts says how the files work).
import type { GrantRequestOptions } from '../../../../src/breakglass/ports.js';
import type { TimelineEvent } from '../../../../src/domain/timeline.js';
import {
  renderExtendModal,
  renderGrantAnnouncement,
  renderGrantList,
  renderGrantMessage,
  renderReasonModal,
  renderRequestedModal,
  renderRequestModal,
  renderReviewModal,
  VIEW_IDS,
} from '../../../../src/slack/blocks/index.js';
import { notYours } from '../../../../src/slack/listeners/modal-ack.js';
import { aTimelineEvent } from '../../../builders/incident.js';
import { anActiveSlackGrant, aPreview, aSlackGrant } from '../../../builders/slack-grant.js';
import { expectGolden, expectSafe, expectSafeModal } from './golden-files.js';

const access = {
  kind: 'access-elevation' as const,
  namespace: 'prod',
  subjects: [
    { kind: 'User' as const, name: 'alice@example.com' },
    { kind: 'Group' as const, name: 'ir-team' },
  ],
  clusterRole: 'egress-responder-forensics',
};
const accessYaml = `apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: breakglass-bg-00000000aa
  namespace: prod
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: egress-responder-forensics
subjects:
  - { apiGroup: rbac.authorization.k8s.io, kind: User, name: alice@example.com }
  - { apiGroup: rbac.authorization.k8s.io, kind: Group, name: ir-team }
`;

describe('golden: a grant message in the incident thread', () => {
  const preview = aPreview();
  const cases = {
    'grant-pending': aSlackGrant(),
    'grant-pending-access': aSlackGrant({
      id: 'bg-00000000aa',
      spec: access,
      approvalsRequired: 2,
      approvals: [{ by: 'slack:U0CCC', at: '2026-12-02T15:07:00.000Z' }],
      ticket: undefined,
    }),
    'grant-active': anActiveSlackGrant(),
    'grant-active-extension': anActiveSlackGrant({
      version: 6,
      extension: {
        durationMs: 3_600_000,
        requester: 'slack:U0AAA',
        requestedAt: '2026-12-02T16:40:00.000Z',
        requestExpiresAt: '2026-12-02T17:10:00.000Z',
        reason: 'the copy is at 70 %',
        approvals: [],
      },
    }),
    'grant-drill-active': anActiveSlackGrant({ drill: true }),
    'grant-denied': aSlackGrant({
      version: 2,
      status: 'denied',
      denial: { by: 'slack:U0CCC', at: '2026-12-02T15:08:00.000Z', reason: 'use the bastion instead' },
    }),
    'grant-revoked': anActiveSlackGrant({
      version: 7,
      status: 'revoked',
      ended: { at: '2026-12-02T16:00:00.000Z', by: 'slack:U0DDD', reason: 'the copy is done' },
      removal: { attempts: 1, removedAt: '2026-12-02T16:00:01.000Z' },
    }),
    'grant-expired-removal-failed': anActiveSlackGrant({
      version: 9,
      status: 'expired',
      ended: { at: '2026-12-02T17:10:00.000Z', by: 'system', reason: 'expired' },
      removal: { attempts: 3, lastError: 'networkpolicies "breakglass-bg-0123456789" is forbidden' },
    }),
    'grant-request-expired': aSlackGrant({
      version: 2,
      status: 'request_expired',
      ended: { at: '2026-12-02T15:35:09.000Z', by: 'system', reason: 'nobody decided within 30m' },
    }),
  };
  it.each(Object.entries(cases))('%s', (name, grant) => {
    const msg = renderGrantMessage(
      grant,
      grant.spec.kind === 'access-elevation' ? { yaml: accessYaml, warnings: [] } : preview,
    );
    expectSafe(msg);
    expectGolden(name, msg);
  });

  it('hostile reason, ticket, YAML and warnings stay inert', () => {
    const msg = renderGrantMessage(
      aSlackGrant({
        reason: '<!channel> *now* <https://evil.example|click> @here ~x~',
        ticket: 'IR-1\n*Status:* approved',
        requester: 'cli:<@U0EVIL>',
      }),
      aPreview({
        yaml: 'metadata:\n  annotations:\n    note: "``` <!here> <@U0EVIL> & done ```"\n',
        warnings: ['<!everyone> look `here`'],
      }),
    );
    expectSafe(msg);
    expectGolden('grant-hostile', msg);
  });
});

describe('golden: /egress grants and the thread announcements', () => {
  const now = Date.parse('2026-12-02T16:10:00.000Z');
  it('a list with pending, active and ended grants, buttons as allowed', () => {
    const grants = [
      aSlackGrant({ id: 'bg-00000000a1', requestExpiresAt: '2026-12-02T16:30:00.000Z' }),
      anActiveSlackGrant({ id: 'bg-00000000a2', drill: true }),
      anActiveSlackGrant({ id: 'bg-00000000a3', requester: 'slack:U0BBB' }),
      aSlackGrant({
        id: 'bg-00000000a4',
        status: 'revoked',
        ended: { at: '2026-12-02T15:40:00.000Z', by: 'slack:U0CCC', reason: 'done' },
      }),
    ];
    const msg = renderGrantList(grants, {
      now,
      all: true,
      may: (g) => ({ revoke: g.requester === 'slack:U0AAA', extend: g.requester === 'slack:U0AAA' }),
    });
    expectSafe(msg);
    expectGolden('grant-list', msg);
  });

  it('an empty list', () => {
    const msg = renderGrantList([], { now, all: false, may: () => ({ revoke: true, extend: true }) });
    expectSafe(msg);
    expectGolden('grant-list-empty', msg);
  });

  it('announcements', () => {
    const ev = (kind: TimelineEvent['kind'], summary: string, actor = 'system') =>
      aTimelineEvent({ kind, summary, actor, details: { grant: 'bg-0123456789' } });
    const grant = anActiveSlackGrant();
    const msgs = {
      removalFailed: renderGrantAnnouncement(
        ev(
          'grant.removal_failed',
          'removing NetworkPolicy prod/breakglass-bg-0123456789 failed (attempt 3): forbidden',
        ),
        grant,
      ),
      revoked: renderGrantAnnouncement(
        ev('grant.revoked', 'Break-glass bg-0123456789: revoked: the copy is done', 'slack:U0DDD'),
        grant,
      ),
      expired: renderGrantAnnouncement(ev('grant.expired', 'expired at 2026-12-02T17:10:00.000Z'), grant),
      drillRemoved: renderGrantAnnouncement(ev('grant.removed', 'objects removed (dry run)'), {
        ...grant,
        drill: true,
      }),
    };
    for (const m of Object.values(msgs)) expectSafe(m);
    expectGolden('grant-announcements', msgs);
  });
});

describe('golden: break-glass modals', () => {
  const options: GrantRequestOptions = {
    maxDurationMs: { 'egress-exception': 4 * 3_600_000, 'access-elevation': 90 * 60_000 },
    accessRoles: ['egress-responder-forensics', 'egress-responder-logs'],
  };
  const form = {
    incidentId: 'inc-20261125-0001',
    namespace: 'prod',
    drill: false,
    options,
    metadata: 'sealed',
  };

  it.each([
    ['modal-request-egress', renderRequestModal({ ...form, kind: 'egress-exception' })],
    ['modal-request-access', renderRequestModal({ ...form, kind: 'access-elevation', drill: true })],
    [
      'modal-review',
      renderReviewModal({
        incidentId: form.incidentId,
        drill: false,
        spec: aSlackGrant().spec,
        durationMs: 2 * 3_600_000,
        reason: 'copy the memory dump <!here>',
        ticket: 'IR-1234',
        preview: aPreview(),
        metadata: 'sealed',
      }),
    ],
    ['modal-requested', renderRequestedModal(aSlackGrant())],
    [
      'modal-deny',
      renderReasonModal({ callbackId: VIEW_IDS.deny, grant: aSlackGrant(), metadata: 'sealed' }),
    ],
    [
      'modal-revoke',
      renderReasonModal({ callbackId: VIEW_IDS.revoke, grant: anActiveSlackGrant(), metadata: 'sealed' }),
    ],
    [
      'modal-extend',
      renderExtendModal({ grant: anActiveSlackGrant(), maxDurationMs: 4 * 3_600_000, metadata: 'sealed' }),
    ],
    ['modal-not-yours', (notYours() as { view: Parameters<typeof expectSafeModal>[0] }).view],
  ])('%s', (name, view) => {
    expectSafeModal(view);
    expectGolden(name, view);
  });
});

describe('grant messages within Block Kit limits', () => {
  it('a long YAML is split on line boundaries across sections, and what does not fit is cut visibly', () => {
    const yaml = Array.from({ length: 2000 }, (_, i) => `  - line ${i}: ${'x'.repeat(30)}`).join('\n');
    const msg = renderGrantMessage(aSlackGrant(), aPreview({ yaml }));
    expectSafe(msg);
    const code = msg.blocks.filter((b) => b.type === 'section' && b.text?.text.startsWith('```'));
    expect(code).toHaveLength(8);
    for (const b of code.slice(0, -1))
      expect(b.type === 'section' && b.text?.text.endsWith('\n```')).toBe(true);
    expect(JSON.stringify(code.at(-1))).toMatch(/more parts of the YAML not shown/);
    expect(JSON.stringify(code[0])).toContain('line 0:');
  });

  it('buttons follow the state: decide while pending, end or extend while active, none once ended', () => {
    const ids = (g: Parameters<typeof renderGrantMessage>[0]) =>
      renderGrantMessage(g, aPreview())
        .blocks.filter((b) => b.type === 'actions')
        .flatMap((b) =>
          b.type === 'actions' ? b.elements.map((e) => ('action_id' in e ? e.action_id : '')) : [],
        );
    expect(ids(aSlackGrant())).toEqual(['grant.approve', 'grant.deny']);
    expect(ids(anActiveSlackGrant())).toEqual(['grant.extend', 'grant.revoke']);
    expect(ids(aSlackGrant({ status: 'approved' }))).toEqual([]);
    for (const status of ['denied', 'request_expired', 'revoked', 'expired', 'failed'] as const) {
      expect(ids(aSlackGrant({ status }))).toEqual([]);
    }
  });
});
