import type { Incident, IncidentStatus } from '../../../../src/domain/incident.js';
import {
  ACTION_IDS,
  type Block,
  incidentActions,
  incidentView,
  LIMITS,
  renderIncidentRoot,
  type SlackMessage,
} from '../../../../src/slack/blocks/index.js';
import type { RichTextBlock, RichTextElement } from '../../../../src/slack/blocks/types.js';
import { anAlert } from '../../../builders/alert.js';
import { anIncident } from '../../../builders/incident.js';
import { blockProblems } from '../../../fakes/slack-api/validate.js';

/** The rich_text blocks of a message, each as the text a reader sees and its elements. */
function richLines(msg: SlackMessage): { text: string; elements: RichTextElement[] }[] {
  return msg.blocks
    .filter((b): b is RichTextBlock => b.type === 'rich_text')
    .map((b) => {
      const elements = b.elements.flatMap((e) => (e.type === 'rich_text_section' ? e.elements : []));
      return { text: elements.map((e) => (e.type === 'text' ? e.text : '')).join(''), elements };
    });
}

/** Every mrkdwn text in the message (what Slack parses). */
function mrkdwnTexts(v: unknown): string[] {
  if (Array.isArray(v)) return v.flatMap(mrkdwnTexts);
  if (!v || typeof v !== 'object') return [];
  const o = v as Record<string, unknown>;
  const own = o.type === 'mrkdwn' && typeof o.text === 'string' ? [o.text] : [];
  return [...own, ...Object.values(o).flatMap(mrkdwnTexts)];
}

function buttons(
  msg: SlackMessage,
): { action_id: string; value?: string; style?: string; confirm?: unknown }[] {
  return msg.blocks
    .filter((b): b is Extract<Block, { type: 'actions' }> => b.type === 'actions')
    .flatMap((b) => b.elements) as { action_id: string; value?: string }[];
}

function root(over: Partial<Incident> = {}, title?: string): SlackMessage {
  return renderIncidentRoot(incidentView(anIncident(over), title));
}

describe('incidentView', () => {
  it('holds what the root message shows', () => {
    const view = incidentView(
      anIncident({
        count: 51,
        commander: 'slack:U0AAA',
        status: 'acknowledged',
        verdict: {
          kind: 'violation',
          reason: 'port_not_allowed',
          message: 'port 8443 is not allowed',
          contract: { service: 'payments-api', file: 'c.yaml' },
        },
      }),
      'Egress anomaly',
    );
    expect(view).toEqual({
      id: 'inc-20261125-0001',
      status: 'acknowledged',
      statusLabel: 'acknowledged',
      drill: false,
      source: {
        service: 'payments-api',
        namespace: 'prod',
        identity: 'spiffe://cluster.local/ns/prod/sa/payments-api',
      },
      destination: {
        type: 'fqdn',
        name: 'exfil.example.net',
        port: 443,
        protocol: 'https',
        description: 'fqdn exfil.example.net:443/https',
      },
      count: 51,
      countLabel: '51 alerts',
      firstSeen: '2026-11-25T14:03:12.123Z',
      lastSeen: '2026-11-25T14:03:12.123Z',
      verdict: { kind: 'violation', reason: 'port_not_allowed', message: 'port 8443 is not allowed' },
      playbook: { id: 'egress-anomaly', title: 'Egress anomaly', mode: 'soft' },
      commander: 'slack:U0AAA',
      actions: ['contain', 'breakglass', 'false_positive', 'timeline'],
    });
  });

  it('says "1 alert" and "containment incomplete"', () => {
    const view = incidentView(anIncident({ count: 1, status: 'containment_incomplete' }));
    expect(view.countLabel).toBe('1 alert');
    expect(view.statusLabel).toBe('containment incomplete');
  });
});

describe('root message buttons per status', () => {
  const table: [IncidentStatus, string | undefined, string[]][] = [
    [
      'open',
      undefined,
      [
        ACTION_IDS.ack,
        ACTION_IDS.containPreview,
        ACTION_IDS.breakglass,
        ACTION_IDS.falsePositive,
        ACTION_IDS.timeline,
      ],
    ],
    [
      'acknowledged',
      'slack:U0AAA',
      [ACTION_IDS.containPreview, ACTION_IDS.breakglass, ACTION_IDS.falsePositive, ACTION_IDS.timeline],
    ],
    [
      'acknowledged',
      undefined,
      [ACTION_IDS.containPreview, ACTION_IDS.breakglass, ACTION_IDS.falsePositive, ACTION_IDS.timeline],
    ],
    [
      'containment_incomplete',
      undefined,
      [
        ACTION_IDS.ack,
        ACTION_IDS.containPreview,
        ACTION_IDS.rotate,
        ACTION_IDS.release,
        ACTION_IDS.breakglass,
        ACTION_IDS.falsePositive,
        ACTION_IDS.timeline,
      ],
    ],
    [
      'containment_incomplete',
      'slack:U0AAA',
      [
        ACTION_IDS.containPreview,
        ACTION_IDS.rotate,
        ACTION_IDS.release,
        ACTION_IDS.breakglass,
        ACTION_IDS.falsePositive,
        ACTION_IDS.timeline,
      ],
    ],
    [
      'contained',
      undefined,
      [
        ACTION_IDS.ack,
        ACTION_IDS.rotate,
        ACTION_IDS.release,
        ACTION_IDS.breakglass,
        ACTION_IDS.falsePositive,
        ACTION_IDS.timeline,
      ],
    ],
    [
      'contained',
      'slack:U0AAA',
      [
        ACTION_IDS.rotate,
        ACTION_IDS.release,
        ACTION_IDS.breakglass,
        ACTION_IDS.falsePositive,
        ACTION_IDS.timeline,
      ],
    ],
    ['resolved', 'slack:U0AAA', [ACTION_IDS.breakglass, ACTION_IDS.falsePositive, ACTION_IDS.timeline]],
    ['closed', undefined, [ACTION_IDS.timeline]],
    ['closed', 'slack:U0AAA', [ACTION_IDS.timeline]],
  ];

  it.each(table)('%s (commander %s)', (status, commander, expected) => {
    const msg = root({ status, ...(commander ? { commander } : {}) });
    expect(buttons(msg).map((b) => b.action_id)).toEqual(expected);
    expect(incidentActions(status, commander)).toHaveLength(expected.length);
    for (const b of buttons(msg)) expect(b.value).toBe('inc-20261125-0001');
  });

  it('styles Take command primary and Mark false positive danger with a confirm dialog', () => {
    const all = buttons(root());
    expect(all.find((b) => b.action_id === ACTION_IDS.ack)?.style).toBe('primary');
    const fp = all.find((b) => b.action_id === ACTION_IDS.falsePositive);
    expect(fp?.style).toBe('danger');
    expect(fp?.confirm).toMatchObject({ title: { text: 'Mark as false positive?' }, style: 'danger' });
  });
});

describe('root message content', () => {
  it('shows the count and first/last seen as Slack date tokens', () => {
    const msg = root({ count: 51, lastSeen: '2026-11-25T14:09:40.500Z' });
    const json = JSON.stringify(msg);
    expect(json).toContain('51 alerts');
    const first = Math.floor(Date.parse('2026-11-25T14:03:12.123Z') / 1000);
    const last = Math.floor(Date.parse('2026-11-25T14:09:40.500Z') / 1000);
    expect(json).toContain(`<!date^${first}^{date_short_pretty} {time_secs}|2026-11-25T14:03:12.123Z>`);
    expect(json).toContain(`<!date^${last}^{date_short_pretty} {time_secs}|2026-11-25T14:09:40.500Z>`);
    expect(msg.text).toBe(
      'Egress incident inc-20261125-0001 (open): payments-api.prod → fqdn exfil.example.net:443/https, 51 alerts',
    );
  });

  it('mentions the commander only as a Slack user built from the actor id', () => {
    const status = (commander: string) => richLines(root({ commander }))[0]?.elements.slice(-2);
    expect(status('slack:U0AAA')).toEqual([
      { type: 'text', text: ' ' },
      { type: 'user', user_id: 'U0AAA' },
    ]);
    expect(status('cli:alice')).toEqual([
      { type: 'text', text: ' ' },
      { type: 'text', text: 'cli:alice' },
    ]);
    expect(status('slack:<!channel>')).toEqual([
      { type: 'text', text: ' ' },
      { type: 'text', text: 'slack:<!channel>' },
    ]);
  });

  it('shows the DRILL badge for drills', () => {
    const msg = root({ drill: true });
    expect((msg.blocks[0] as Extract<Block, { type: 'header' }>).text.text).toContain('DRILL');
    expect(msg.text.startsWith('[DRILL] ')).toBe(true);
    expect(JSON.stringify(root())).not.toContain('DRILL');
  });

  it('shows the verdict kind, reason and message, and the playbook with its mode', () => {
    const json = JSON.stringify(
      root(
        {
          mode: 'hard',
          verdict: {
            kind: 'violation',
            reason: 'protocol_mismatch',
            message: 'expected https, saw tcp',
            contract: { service: 'payments-api', file: 'c.yaml' },
          },
        },
        'Egress anomaly',
      ),
    );
    expect(json).toContain('violation (protocol mismatch)');
    expect(json).toContain('expected https, saw tcp');
    expect(json).toContain('Egress anomaly (egress-anomaly)');
    expect(json).toContain('mode: hard');
    expect(json).toContain('Hard mode');
  });
});

describe('root message escaping', () => {
  const hostile = anIncident({
    alert: anAlert({
      source: {
        service: '<!channel> pay*ments*',
        namespace: '<@U0EVIL>',
        identity: '<https://evil.example|x>',
      },
      destination: { name: '_exfil_.example.net', namespace: '~ns~' },
      summary: '@here `curl evil` <!subteam^S1> & *now*',
      extra: {},
    }),
  });

  it('shows an alert whose service is `<!channel> pay*ments*` exactly as sent, as literal text only', () => {
    const msg = renderIncidentRoot(incidentView(hostile));
    const lines = richLines(msg);
    const shown = lines.map((l) => l.text).join('\n');
    for (const typed of [
      '<!channel> pay*ments* · namespace <@U0EVIL> · <https://evil.example|x>',
      'fqdn _exfil_.example.net:443/https',
      ' @here `curl evil` <!subteam^S1> & *now*',
    ])
      expect(shown).toContain(typed);
    // Nothing the alert carried reaches a field Slack parses, or becomes a mention, link or style.
    const parsed = mrkdwnTexts(msg.blocks).join('\n');
    for (const raw of ['channel', 'U0EVIL', 'evil', 'subteam', 'now']) expect(parsed).not.toContain(raw);
    for (const e of lines.flatMap((l) => l.elements)) {
      expect(['text', 'emoji']).toContain(e.type);
      if (e.type === 'text' && e.style)
        expect([
          'Status:',
          'Commander:',
          'Source',
          'Destination',
          'Contract verdict:',
          'Alert:',
          'identity unknown',
          'nobody yet',
        ]).toContain(e.text);
    }
    expect(JSON.stringify(msg)).not.toContain('\u02CB');
    expect(msg.text).toContain('&lt;!channel&gt; pay*ments*.&lt;@U0EVIL&gt;');
    expect(blockProblems(msg.blocks)).toEqual([]);
  });

  it('keeps the fallback text on one line and escaped', () => {
    const msg = renderIncidentRoot(
      incidentView(anIncident({ alert: anAlert({ source: { service: 'a\nb <!here>' } }) })),
    );
    expect(msg.text).not.toContain('\n');
    expect(msg.text).not.toContain('<!here>');
  });

  it('cuts a 10 kB alert summary visibly within 3000', () => {
    const msg = renderIncidentRoot(
      incidentView(anIncident({ alert: anAlert({ summary: 'A'.repeat(10_240) }) })),
    );
    const alert = richLines(msg).find((l) => l.text.startsWith('Alert:'));
    expect(alert?.text.length).toBeLessThanOrEqual(LIMITS.richText);
    expect(alert?.text).toMatch(/^Alert: A+… \(truncated, \d+ more chars\)$/);
    expect(blockProblems(msg.blocks)).toEqual([]);
  });

  it('keeps every action_id and block_id ≤ 255 and every value ≤ 2000, in every status', () => {
    const statuses: IncidentStatus[] = [
      'open',
      'acknowledged',
      'containment_incomplete',
      'contained',
      'resolved',
      'closed',
    ];
    for (const status of statuses) {
      const msg = root({ status, id: `inc-${'9'.repeat(200)}` });
      for (const b of msg.blocks) expect((b.block_id ?? '').length).toBeLessThanOrEqual(255);
      for (const e of buttons(msg)) {
        expect(e.action_id.length).toBeLessThanOrEqual(255);
        expect((e.value ?? '').length).toBeLessThanOrEqual(2000);
      }
      expect(blockProblems(msg.blocks)).toEqual([]);
    }
  });
});

describe('a resolved alert on the root message', () => {
  it('shows when the sender reported it resolved', () => {
    const incident = anIncident({ resolvedAt: '2026-11-25T15:00:00.000Z' });
    const text = JSON.stringify(renderIncidentRoot(incidentView(incident)).blocks);
    expect(text).toContain('*Resolved by the sender*');
    expect(text).toContain('2026-11-25T15:00:00.000Z');
    expect(JSON.stringify(renderIncidentRoot(incidentView(anIncident())).blocks)).not.toContain(
      'Resolved by',
    );
  });
});
