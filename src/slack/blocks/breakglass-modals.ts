// The break-glass modals: the request form (per kind), the review of exactly what will be created,
// the answer after submitting, and the small forms for deny, revoke and extend. Pure renderers; the
// listener seals private_metadata (who opened it, for which incident or grant) before it goes out.
import type { GrantPreview, GrantRequestOptions } from '../../breakglass/ports.js';
import type { Grant, GrantKind, GrantSpec } from '../../domain/grant.js';
import { escapeInline } from './escape.js';
import { idText, mrkdwn, plain, plural, shortDuration } from './format.js';
import {
  describeGrantSpec,
  grantKindLabels,
  reasonAndTicket,
  utcText,
  warningLines,
  yamlSections,
} from './grant-text.js';
import { ACTION_IDS, VIEW_IDS } from './ids.js';
import {
  type Choice,
  enforceModal,
  input,
  type ModalView,
  radioButtons,
  staticSelect,
  textInput,
} from './modal.js';
import { richText } from './rich.js';
import type { Block } from './types.js';

/** block_ids of the form's inputs (the parser reads them; errors are reported on them). */
export const BG_BLOCKS = {
  kind: 'bg_kind',
  source: 'bg_source',
  sourceSelector: 'bg_source_selector',
  destKind: 'bg_dest_kind',
  dest: 'bg_dest',
  ports: 'bg_ports',
  subjects: 'bg_subjects',
  role: 'bg_role',
  duration: 'bg_duration',
  reason: 'bg_reason',
  ticket: 'bg_ticket',
} as const;
/** The action_id of every input but the kind (which dispatches). */
export const BG_VALUE = 'value';

export const REASON_MAX = 2000;
export const TICKET_MAX = 200;

const STEPS_MS = [15, 30, 60, 120, 240, 480, 720, 1440].map((m) => m * 60_000);

/** The durations offered: common steps up to the kind's maximum, and the maximum itself. */
export function durationChoices(maxMs: number): Choice[] {
  const values = STEPS_MS.filter((ms) => ms <= maxMs);
  if (!values.includes(maxMs) && maxMs > 0) values.push(maxMs);
  return values.map((ms) => ({
    value: String(ms),
    text: ms === maxMs ? `${shortDuration(ms)} (the maximum)` : shortDuration(ms),
  }));
}

export interface RequestFormModel {
  incidentId: string;
  namespace: string;
  drill: boolean;
  kind: GrantKind;
  options: GrantRequestOptions;
  /** Sealed by the listener. */
  metadata: string;
  /** What was chosen before a redraw (kind switch): kept where the block stays. */
  initial?: { duration?: string; reason?: string; ticket?: string };
}

function egressBlocks(m: RequestFormModel): Block[] {
  return [
    input(
      BG_BLOCKS.source,
      'Source',
      radioButtons(
        BG_VALUE,
        [
          { value: 'quarantined', text: `The pods ${m.incidentId} quarantined` },
          { value: 'selector', text: 'Pods matching the selector below' },
        ],
        'quarantined',
      ),
    ),
    input(
      BG_BLOCKS.sourceSelector,
      'Source selector',
      textInput(BG_VALUE, { placeholder: 'app=payments-api,tier=web', maxLength: 500 }),
      {
        optional: true,
        hint: `Only with "pods matching the selector": key=value terms, comma-separated, in namespace ${m.namespace}.`,
      },
    ),
    input(
      BG_BLOCKS.destKind,
      'Destination',
      radioButtons(
        BG_VALUE,
        [
          { value: 'pods', text: 'Pods in a namespace' },
          { value: 'cidr', text: 'A CIDR' },
          { value: 'fqdn', text: 'A host name (FQDN)' },
        ],
        'cidr',
      ),
    ),
    input(
      BG_BLOCKS.dest,
      'Destination address',
      textInput(BG_VALUE, { placeholder: '203.0.113.7/32', maxLength: 500 }),
      {
        hint: 'Pods: namespace or namespace/key=value,… · CIDR: 10.20.0.0/16 · FQDN: forensics.example.com (needs a CNI that enforces FQDN policy).',
      },
    ),
    input(BG_BLOCKS.ports, 'Ports', textInput(BG_VALUE, { placeholder: '443/TCP, 53/UDP', maxLength: 200 }), {
      hint: 'port/protocol, comma-separated (TCP when left out), at most 8.',
    }),
  ];
}

function accessBlocks(m: RequestFormModel): Block[] {
  const roles = m.options.accessRoles.map((r) => ({ value: r, text: r }));
  const blocks: Block[] = [
    input(
      BG_BLOCKS.subjects,
      'Who',
      textInput(BG_VALUE, { placeholder: 'User:alice, Group:ir-team', maxLength: 1000 }),
      {
        hint: 'Kubernetes users and groups as the cluster authenticates them: User:NAME or Group:NAME, comma-separated (User:alice, Group:ir-team).',
      },
    ),
  ];
  blocks.push(
    roles.length > 0
      ? input(
          BG_BLOCKS.role,
          'ClusterRole (allow-listed)',
          staticSelect(BG_VALUE, roles, roles.length === 1 ? roles[0]?.value : undefined),
          {
            hint: `Bound with a RoleBinding in namespace ${m.namespace} only.`,
          },
        )
      : {
          type: 'section',
          text: mrkdwn(
            '⚠️ No ClusterRole is allow-listed (`breakglass.accessRoles`): access cannot be elevated.',
          ),
        },
  );
  return blocks;
}

export function renderRequestModal(m: RequestFormModel): ModalView {
  const max = m.options.maxDurationMs[m.kind];
  const durations = durationChoices(max);
  const initialDuration =
    durations.find((d) => d.value === m.initial?.duration)?.value ??
    durations.find((d) => d.value === String(3_600_000))?.value ??
    durations.at(-1)?.value;
  const blocks: Block[] = [
    {
      type: 'section',
      text: mrkdwn(
        `🔐 Break-glass for *${idText(m.incidentId)}*, in namespace *${escapeInline(m.namespace)}*: time-bound, approved by someone other than you, and it always ends.`,
      ),
    },
  ];
  if (m.drill)
    blocks.push({
      type: 'context',
      elements: [mrkdwn('🧪 *DRILL* — a dry run: nothing is created in the cluster.')],
    });
  blocks.push(
    input(
      BG_BLOCKS.kind,
      'Kind',
      radioButtons(
        ACTION_IDS.breakglassKind,
        (Object.keys(grantKindLabels) as GrantKind[]).map((k) => ({
          value: k,
          text:
            k === 'egress-exception'
              ? 'Egress exception (open one path)'
              : 'Access elevation (a role for people)',
        })),
        m.kind,
      ),
      { dispatch: true },
    ),
    ...(m.kind === 'egress-exception' ? egressBlocks(m) : accessBlocks(m)),
    input(BG_BLOCKS.duration, 'Duration', staticSelect(BG_VALUE, durations, initialDuration), {
      hint: `From approval; at most ${shortDuration(max)} for this kind, extensions included.`,
    }),
    input(
      BG_BLOCKS.reason,
      'Reason',
      textInput(BG_VALUE, { multiline: true, maxLength: REASON_MAX, initial: m.initial?.reason ?? '' }),
    ),
    input(
      BG_BLOCKS.ticket,
      'Ticket',
      textInput(BG_VALUE, {
        maxLength: TICKET_MAX,
        placeholder: 'IR-1234',
        initial: m.initial?.ticket ?? '',
      }),
      {
        optional: true,
      },
    ),
    {
      type: 'context',
      elements: [
        mrkdwn('Next you see exactly what will be created; nothing is requested until you submit that.'),
      ],
    },
  );
  return enforceModal(
    {
      type: 'modal',
      callback_id: VIEW_IDS.request,
      title: plain('Break-glass request'),
      submit: plain('Review'),
      close: plain('Cancel'),
      private_metadata: m.metadata,
      blocks,
    },
    { incidentId: m.incidentId },
  );
}

export interface ReviewModel {
  incidentId: string;
  drill: boolean;
  spec: GrantSpec;
  durationMs: number;
  reason: string;
  ticket?: string;
  preview: GrantPreview;
  metadata: string;
}

export function renderReviewModal(m: ReviewModel): ModalView {
  const blocks: Block[] = [
    {
      type: 'section',
      text: mrkdwn(
        `🔐 *${grantKindLabels[m.spec.kind]}* for *${idText(m.incidentId)}*\n${describeGrantSpec(m.spec, m.incidentId)}`,
      ),
    },
  ];
  if (m.drill)
    blocks.push({
      type: 'context',
      elements: [
        mrkdwn('🧪 *DRILL* — approved or not, this runs as a server-side dry run: nothing is created.'),
      ],
    });
  blocks.push({
    type: 'section',
    fields: [
      mrkdwn(
        `*Duration*\n${shortDuration(m.durationMs)} from approval (at most ${shortDuration(m.preview.maxDurationMs)})`,
      ),
    ],
  });
  blocks.push(reasonAndTicket(m.reason, m.ticket));
  blocks.push({
    type: 'section',
    text: mrkdwn(`*Exactly what approval creates* (${plural(m.preview.objects.length, 'object')}):`),
  });
  blocks.push(...yamlSections(m.preview.yaml, 60));
  if (m.preview.warnings.length > 0) blocks.push(warningLines(m.preview.warnings.slice(0, 30)));
  blocks.push({
    type: 'context',
    elements: [
      mrkdwn(
        'Submitting stores the request; approvers other than you decide on its message in the incident thread.',
      ),
    ],
  });
  return enforceModal(
    {
      type: 'modal',
      callback_id: VIEW_IDS.review,
      title: plain('Review break-glass'),
      submit: plain('Request approval'),
      close: plain('Cancel'),
      private_metadata: m.metadata,
      blocks,
    },
    { incidentId: m.incidentId },
  );
}

/** A modal with an answer and nothing to submit (the request was stored, or it was refused). */
export function renderNoticeModal(title: string, lines: readonly string[]): ModalView {
  return enforceModal({
    type: 'modal',
    title: plain(title),
    close: plain('Close'),
    blocks: [{ type: 'section', text: mrkdwn(lines.join('\n')) }],
  });
}

/**
 * A refusal or error in a modal: the message is shown as written (rich_text), since a user-safe
 * error can quote what the requester typed.
 */
export function renderRefusalModal(title: string, message: string): ModalView {
  return enforceModal({
    type: 'modal',
    title: plain(title),
    close: plain('Close'),
    blocks: [richText(['⚠️ ', message]) as unknown as Block],
  });
}

/** After the review was submitted: the grant is stored and waits for approvers. */
export function renderRequestedModal(grant: Grant): ModalView {
  return renderNoticeModal('Break-glass requested', [
    `✅ *${idText(grant.id)}* is requested${grant.drill ? ' (🧪 DRILL, dry run)' : ''}: ${describeGrantSpec(grant.spec, grant.incidentId)}.`,
    `It needs ${plural(grant.approvalsRequired, 'approval')} from approvers other than you, on its message in ${idText(grant.incidentId)}'s thread, by ${utcText(grant.requestExpiresAt)}.`,
  ]);
}

/** Deny (reason required) and revoke (reason optional): one reason field. */
export function renderReasonModal(m: {
  callbackId: typeof VIEW_IDS.deny | typeof VIEW_IDS.revoke;
  grant: Grant;
  metadata: string;
}): ModalView {
  const deny = m.callbackId === VIEW_IDS.deny;
  const what = deny && m.grant.extension ? 'the extension of ' : '';
  const title = deny
    ? m.grant.extension
      ? 'Deny extension'
      : 'Deny break-glass'
    : m.grant.status === 'pending'
      ? 'Withdraw break-glass'
      : 'Revoke break-glass';
  return enforceModal(
    {
      type: 'modal',
      callback_id: m.callbackId,
      title: plain(title),
      submit: plain(deny ? 'Deny' : m.grant.status === 'pending' ? 'Withdraw' : 'Revoke now'),
      close: plain('Cancel'),
      private_metadata: m.metadata,
      blocks: [
        {
          type: 'section',
          text: mrkdwn(
            `${deny ? `Deny ${what}` : 'End '}*${idText(m.grant.id)}* (${idText(m.grant.incidentId)}): ${describeGrantSpec(m.grant.spec, m.grant.incidentId)}.${deny ? '' : ' Its objects are removed now (retried until they are gone).'}`,
          ),
        },
        input(
          BG_BLOCKS.reason,
          deny ? 'Why it is denied' : 'Why (optional)',
          textInput(BG_VALUE, { multiline: true, maxLength: REASON_MAX }),
          {
            optional: !deny,
          },
        ),
      ],
    },
    { incidentId: m.grant.incidentId },
  );
}

export function renderExtendModal(m: { grant: Grant; maxDurationMs: number; metadata: string }): ModalView {
  const durations = durationChoices(m.maxDurationMs);
  return enforceModal(
    {
      type: 'modal',
      callback_id: VIEW_IDS.extend,
      title: plain('Extend break-glass'),
      submit: plain('Ask for approval'),
      close: plain('Cancel'),
      private_metadata: m.metadata,
      blocks: [
        {
          type: 'section',
          text: mrkdwn(
            `Extend *${idText(m.grant.id)}*${m.grant.expiresAt ? `, ending ${utcText(m.grant.expiresAt)}` : ''}: ${describeGrantSpec(m.grant.spec, m.grant.incidentId)}.\nAn extension is approved like the grant, by someone other than you; the whole stays within ${shortDuration(m.maxDurationMs)}.`,
          ),
        },
        input(BG_BLOCKS.duration, 'How much longer', staticSelect(BG_VALUE, durations, durations[0]?.value)),
        input(BG_BLOCKS.reason, 'Why', textInput(BG_VALUE, { multiline: true, maxLength: REASON_MAX })),
      ],
    },
    { incidentId: m.grant.incidentId },
  );
}
