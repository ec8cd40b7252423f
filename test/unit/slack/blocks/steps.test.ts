import type { ActionState, StepState, StepStatus } from '../../../../src/domain/incident.js';
import type { Step } from '../../../../src/playbooks/schema.js';
import {
  ACTION_IDS,
  actionSummary,
  type Block,
  LIMITS,
  parseChecklistValue,
  parseStepValue,
  renderPreview,
  renderStep,
  renderVerification,
  type SlackMessage,
} from '../../../../src/slack/blocks/index.js';
import { anIncident } from '../../../builders/incident.js';
import { blockProblems } from '../../../fakes/slack-api/validate.js';

const AT = '2026-11-25T14:03:12.123Z';
const incident = anIncident();

function aStep(over: Partial<Step> = {}): Step {
  return { id: 'contain', title: 'Contain', checklist: [], actions: [], notes: [], urgent: false, ...over };
}

function aState(status: StepStatus, over: Partial<StepState> = {}): StepState {
  return { id: 'contain', status, checklist: {}, approvals: [], actions: [], ...over };
}

function anAction(over: Partial<ActionState> = {}): ActionState {
  return {
    key: 'k8s.quarantine',
    uses: 'k8s.quarantine',
    status: 'planned',
    dryRun: false,
    attempts: 0,
    plan: { summary: 'label 2 pods', preview: 'pods:\n  - a\n  - b', changes: true, data: {} },
    updatedAt: AT,
    ...over,
  };
}

type Element = { type: string; action_id: string; value?: string; style?: string; confirm?: unknown };

function elements(msg: SlackMessage): Element[] {
  return msg.blocks
    .filter((b): b is Extract<Block, { type: 'actions' }> => b.type === 'actions')
    .flatMap((b) => b.elements) as unknown as Element[];
}

function texts(msg: SlackMessage | Block[]): string {
  return JSON.stringify(msg);
}

/** What each rich_text block reads, with our code style shown as backticks. */
function richLines(msg: SlackMessage | Block[]): string[] {
  const blocks = Array.isArray(msg) ? msg : msg.blocks;
  return blocks.flatMap((b) =>
    b.type === 'rich_text'
      ? [
          b.elements
            .flatMap((e) => (e.type === 'rich_text_section' ? e.elements : []))
            .map((e) => (e.type !== 'text' ? '' : e.style?.code ? `\`${e.text}\`` : e.text))
            .join(''),
        ]
      : [],
  );
}

describe('renderStep', () => {
  const statuses: [StepStatus, string][] = [
    ['pending', '⚪'],
    ['running', '⏳'],
    ['awaiting_input', '🟡'],
    ['awaiting_confirmation', '🟡'],
    ['awaiting_approval', '🟡'],
    ['completed', '✅'],
    ['skipped', '⏭️'],
    ['failed', '❌'],
  ];
  it.each(statuses)('%s shows %s, the title and the status', (status, emoji) => {
    const msg = renderStep(incident, aStep(), aState(status));
    expect(msg.blocks[0]).toMatchObject({ type: 'rich_text' });
    expect(richLines(msg)[0]?.startsWith(`${emoji} Contain — `)).toBe(true);
    expect(msg.text.startsWith(`${emoji} Contain: `)).toBe(true);
    expect(blockProblems(msg.blocks)).toEqual([]);
  });

  it('gives the reason of a skipped or failed step as written; the fallback escaped', () => {
    for (const status of ['skipped', 'failed'] as const) {
      const why = '<!channel> *no* cluster, `kubectl` refused';
      const msg = renderStep(incident, aStep(), aState(status, { reason: why }));
      expect(richLines(msg)[0]).toContain(`\nReason: ${why}`);
      expect(msg.text).toContain('(&lt;!channel&gt; *no* cluster, `kubectl` refused)');
    }
  });

  it("shows each action's latest status and summary", () => {
    const msg = renderStep(
      incident,
      aStep(),
      aState('running', {
        actions: [
          anAction(),
          anAction({
            key: 'deny',
            uses: 'k8s.deny-egress',
            status: 'applied',
            dryRun: true,
            attempts: 2,
            outcome: { status: 'applied', summary: 'created NetworkPolicy q', data: {} },
          }),
          anAction({ key: 'x', status: 'failed', error: { code: 'k8s_forbidden', message: 'forbidden' } }),
        ],
      }),
    );
    const lines = richLines(msg);
    expect(lines).toContain('📝 `k8s.quarantine` — planned: label 2 pods');
    expect(lines).toContain(
      '✅ `k8s.deny-egress` (deny) — applied (dry run) · attempt 2: created NetworkPolicy q',
    );
    expect(lines).toContain('❌ `k8s.quarantine` (x) — failed: forbidden');
  });

  it('renders the checklist as checkboxes with ticked ones as initial options and who ticked them', () => {
    const step = aStep({
      id: 'triage',
      checklist: [
        { id: 'page', text: 'Page the *owner*' },
        { id: 'deploys', text: 'Check deploys' },
      ],
    });
    const msg = renderStep(
      incident,
      step,
      aState('awaiting_input', { id: 'triage', checklist: { page: { by: 'slack:U0AAA', at: AT } } }),
    );
    const [box] = elements(msg) as unknown as {
      type: string;
      action_id: string;
      options: { value: string; text: { text: string } }[];
      initial_options: { value: string }[];
    }[];
    expect(box?.type).toBe('checkboxes');
    expect(box?.action_id).toBe(ACTION_IDS.tick);
    expect(box?.options.map((o) => o.value)).toEqual([
      'inc-20261125-0001|triage|page',
      'inc-20261125-0001|triage|deploys',
    ]);
    expect(box?.initial_options.map((o) => o.value)).toEqual(['inc-20261125-0001|triage|page']);
    expect(parseChecklistValue(box?.options[0]?.value ?? '')).toEqual({
      incidentId: 'inc-20261125-0001',
      stepId: 'triage',
      itemId: 'page',
    });
    expect(texts(msg)).toMatch(
      /ticked by <@U0AAA> at <!date\^\d+\^\{date_short_pretty\} \{time_secs\}\|2026-11-25T14:03:12.123Z>/,
    );
    expect(blockProblems(msg.blocks)).toEqual([]);
  });

  it('splits a long checklist into blocks of 10 checkboxes', () => {
    const checklist = Array.from({ length: 23 }, (_, i) => ({ id: `item-${i}`, text: `Item ${i}` }));
    const msg = renderStep(incident, aStep({ checklist }), aState('awaiting_input'));
    const boxes = elements(msg) as unknown as { options: unknown[] }[];
    expect(boxes.map((b) => b.options.length)).toEqual([10, 10, 3]);
    expect(blockProblems(msg.blocks)).toEqual([]);
  });

  it('shows a settled checklist as a static list', () => {
    const msg = renderStep(
      incident,
      aStep({ checklist: [{ id: 'a', text: 'A' }] }),
      aState('completed', { checklist: { a: { by: 'slack:U0AAA', at: AT } } }),
    );
    expect(elements(msg)).toEqual([]);
    expect(texts(msg)).toContain('☑️ 1. A');
  });

  it('shows long checklist items in full and backticks as backticks, with nothing for Slack to parse', () => {
    const long = `Run \`kubectl -n prod get netpol -o yaml\` and attach it; then ${'check every rule by hand, '.repeat(8)}done`;
    const hostile = 'Ask <!channel> about `x` *now* <https://evil.example|click> :skull:';
    const msg = renderStep(
      incident,
      aStep({
        checklist: [
          { id: 'long', text: long },
          { id: 'hostile', text: hostile },
          { id: 'lines', text: 'one\n2. a fake second item' },
        ],
      }),
      aState('awaiting_input'),
    );
    const sections = msg.blocks.filter((b) => b.type === 'section') as {
      text: { type: string; text: string };
    }[];
    const list = sections.find((s) => s.text.text.startsWith('1. '));
    // The whole item, exactly, in a plain_text object: no look-alike, no zero-width characters.
    expect(list?.text).toEqual({
      type: 'plain_text',
      text: `1. ${long}\n2. ${hostile}\n3. one 2. a fake second item`,
      emoji: false,
    });
    expect(long.length).toBeGreaterThan(LIMITS.optionText);
    expect(JSON.stringify(msg)).not.toMatch(/[\u02CB\u200B\u200D]/);
    const [box] = elements(msg) as unknown as { options: { text: { type: string; text: string } }[] }[];
    // Options are cut to Slack's 75 but say the number the full text is listed under.
    expect(box?.options.map((o) => o.text.type)).toEqual(['plain_text', 'plain_text', 'plain_text']);
    expect(box?.options[0]?.text.text.startsWith('1. Run `kubectl')).toBe(true);
    expect(box?.options[0]?.text.text.length).toBeLessThanOrEqual(LIMITS.optionText);
    expect(blockProblems(msg.blocks)).toEqual([]);
  });

  it('lists no separate full text when every item fits its checkbox', () => {
    const msg = renderStep(
      incident,
      aStep({ checklist: [{ id: 'a', text: 'Use `jq`' }] }),
      aState('awaiting_input'),
    );
    const [box] = elements(msg) as unknown as { options: { text: { text: string } }[] }[];
    expect(box?.options[0]?.text.text).toBe('1. Use `jq`');
    expect(JSON.stringify(msg.blocks).split('Use `jq`').length - 1).toBe(1);
  });

  it('offers Confirm with a confirm dialog and the preview when awaiting confirmation', () => {
    const msg = renderStep(incident, aStep(), aState('awaiting_confirmation', { actions: [anAction()] }));
    const [confirm] = elements(msg);
    expect(confirm).toMatchObject({
      type: 'button',
      action_id: ACTION_IDS.confirm,
      value: 'inc-20261125-0001|contain',
      style: 'primary',
      confirm: { title: { text: 'Apply these changes?' } },
    });
    expect(parseStepValue(confirm?.value ?? '')).toEqual({
      incidentId: 'inc-20261125-0001',
      stepId: 'contain',
    });
    expect(texts(msg)).toContain('```\\npods:\\n  - a\\n  - b\\n```');
  });

  it('says "dry run" on the Confirm button of a drill', () => {
    const msg = renderStep(
      anIncident({ drill: true }),
      aStep(),
      aState('awaiting_confirmation', { actions: [anAction()] }),
    );
    expect(elements(msg)[0]).toMatchObject({ text: { text: 'Confirm (dry run)' } });
  });

  it('offers Approve and Deny when awaiting approval', () => {
    const msg = renderStep(
      incident,
      aStep({ approval: { from: ['U0CCC', 'U0DDD'], count: 1, allow_requester: false } }),
      aState('awaiting_approval', { requestedBy: 'slack:U0AAA' }),
    );
    expect(elements(msg).map((e) => [e.action_id, e.value, e.style])).toEqual([
      [ACTION_IDS.approve, 'inc-20261125-0001|contain', 'primary'],
      [ACTION_IDS.deny, 'inc-20261125-0001|contain', 'danger'],
    ]);
    expect(texts(msg)).toContain('from <@U0CCC>, <@U0DDD>');
    expect(texts(msg)).toContain('<@U0AAA> asked for this step and cannot approve it.');
  });

  it('offers no buttons in the other statuses', () => {
    for (const status of ['pending', 'running', 'completed', 'skipped', 'failed'] as const) {
      expect(elements(renderStep(incident, aStep(), aState(status, { actions: [anAction()] })))).toEqual([]);
    }
  });

  it('shows verification lines and SLA reminders', () => {
    const msg = renderStep(
      incident,
      aStep({ sla: 900_000 }),
      aState('completed', {
        slaNotifiedAt: AT,
        actions: [
          anAction({
            status: 'verified',
            verification: { ok: false, line: 'Verification: egress still open', data: {} },
          }),
        ],
      }),
    );
    expect(texts(msg)).toContain('⚠️ Verification: egress still open');
    expect(texts(msg)).toContain('⏰ SLA of 15m exceeded');
  });

  it('stays within limits with 60 actions and 10 kB summaries', () => {
    const actions = Array.from({ length: 60 }, (_, i) =>
      anAction({
        key: `a${i}`,
        plan: { summary: 'S'.repeat(10_240), preview: 'P'.repeat(10_240), changes: true, data: {} },
      }),
    );
    const msg = renderStep(incident, aStep(), aState('awaiting_confirmation', { actions }));
    expect(msg.blocks.length).toBeLessThanOrEqual(LIMITS.messageBlocks);
    expect(blockProblems(msg.blocks)).toEqual([]);
    const last = msg.blocks.at(-1) as Extract<Block, { type: 'context' }>;
    expect(last.elements[0]).toMatchObject({
      text: expect.stringMatching(/more blocks not shown \(see \/egress timeline inc-20261125-0001\)$/),
    });
  });
});

describe('actionSummary', () => {
  it('prefers the error, then the outcome (with its reason), then the plan', () => {
    expect(actionSummary(anAction({ status: 'failed', error: { code: 'x', message: 'boom' } }))).toBe('boom');
    expect(
      actionSummary(
        anAction({
          status: 'skipped',
          outcome: { status: 'skipped', summary: 'nothing to do', reason: 'no pods', data: {} },
        }),
      ),
    ).toBe('nothing to do (no pods)');
    expect(actionSummary(anAction())).toBe('label 2 pods');
    expect(actionSummary(anAction({ plan: undefined, reason: 'observe mode' }))).toBe('observe mode');
  });
});

describe('renderPreview', () => {
  it('shows each plan as written, and its preview in a code block, escaped but exact', () => {
    const blocks = renderPreview([
      {
        uses: 'k8s.deny-egress',
        summary: 'create <NetworkPolicy> *q*',
        preview: 'spec:\n  podSelector: {}\n  x_y: "*" # <b>\n',
      },
    ]);
    const json = texts(blocks);
    expect(richLines(blocks)).toContain('`k8s.deny-egress` create <NetworkPolicy> *q*');
    expect(json).toContain('```\\nspec:\\n  podSelector: {}\\n  x_y: \\"*\\" # &lt;b&gt;\\n```');
    expect(blockProblems(blocks)).toEqual([]);
  });

  it('cuts a 10 kB preview visibly inside its code block, within 3000', () => {
    const blocks = renderPreview([
      { uses: 'k8s.deny-egress', summary: 'big', preview: 'line: value\n'.repeat(1000) },
    ]);
    const code = blocks.find(
      (b): b is Extract<Block, { type: 'section' }> =>
        b.type === 'section' && !!b.text?.text.startsWith('```'),
    );
    const text = code?.text?.text ?? '';
    expect(text.length).toBeLessThanOrEqual(LIMITS.sectionText);
    expect(text).toMatch(/… \(truncated, \d+ more chars\)\n```$/);
    expect((text.match(/```/g) ?? []).length).toBe(2);
  });

  it('leaves out empty previews', () => {
    expect(renderPreview([{ uses: 'notify.webhook', summary: 'POST', preview: '  ' }])).toHaveLength(2);
  });
});

describe('renderVerification', () => {
  it('is one line of literal text, cut within the rich_text budget', () => {
    expect(renderVerification('Verification: <!here> `contained`\n', true)).toEqual({
      type: 'rich_text',
      elements: [
        {
          type: 'rich_text_section',
          elements: [{ type: 'text', text: '✅ Verification: <!here> `contained`' }],
        },
      ],
    });
    expect(richLines([renderVerification('x'.repeat(5000))])[0]?.length).toBeLessThanOrEqual(LIMITS.richText);
  });
});
