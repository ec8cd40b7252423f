// The root message of an incident that folded many hosts by registrable domain (a DNS tunnel): the
// distinct-host count and a sample, golden and hostile. Buttons are left out of the golden: the
// status goldens (golden.test.ts) own them.
import type { FoldedHosts } from '../../../../src/domain/incident.js';
import { incidentView, renderIncidentRoot, type SlackMessage } from '../../../../src/slack/blocks/index.js';
import { anAlert } from '../../../builders/alert.js';
import { anIncident } from '../../../builders/incident.js';
import { expectGolden, expectSafe } from './golden-files.js';

const tunnel = (hosts: FoldedHosts, name = '0.x7f.tunnel-example.net') =>
  anIncident({
    count: 2001,
    lastSeen: '2026-11-25T14:09:40.500Z',
    alert: anAlert({ destination: { name, port: 53, protocol: 'dns' } }),
    hosts,
  });
/** What each section or rich_text block reads. */
const sections = (msg: SlackMessage) =>
  msg.blocks.map((b) => {
    if (b.type === 'section') return b.text?.text ?? '';
    if (b.type !== 'rich_text') return '';
    return b.elements
      .flatMap((e) => (e.type === 'rich_text_section' ? e.elements : []))
      .map((e) => (e.type === 'text' ? e.text : ''))
      .join('');
  });
const withoutButtons = (msg: SlackMessage) => ({
  text: msg.text,
  blocks: msg.blocks.filter((b) => b.type !== 'actions'),
});

describe('root message: distinct hosts folded', () => {
  it('golden: 2000 distinct hosts of one registrable domain, the first five and an ellipsis', () => {
    const sample = [0, 1, 2, 3, 4].map((i) => `${i}.x7f.tunnel-example.net`);
    const msg = renderIncidentRoot(
      incidentView(
        tunnel({ domain: 'tunnel-example.net', count: 2000, capped: false, sample }),
        'Egress anomaly',
      ),
    );
    expectSafe(msg);
    expect(sections(msg)).toContain(
      '2000 distinct hosts folded (registrable domain tunnel-example.net): 0.x7f.tunnel-example.net, 1.x7f.tunnel-example.net, 2.x7f.tunnel-example.net, 3.x7f.tunnel-example.net, 4.x7f.tunnel-example.net, …',
    );
    expectGolden('root-hosts-folded', withoutButtons(msg));
  });

  it('says a capped count is a lower bound; no ellipsis when every host is shown', () => {
    const capped = renderIncidentRoot(
      incidentView(tunnel({ domain: 'evil.com', count: 10_000, capped: true, sample: ['a.evil.com'] })),
    );
    expect(sections(capped)).toContain(
      '10000+ distinct hosts folded (registrable domain evil.com): a.evil.com, …',
    );
    const all = renderIncidentRoot(
      incidentView(
        tunnel({ domain: 'evil.com', count: 2, capped: false, sample: ['a.evil.com', 'b.evil.com'] }),
      ),
    );
    expect(sections(all)).toContain(
      '2 distinct hosts folded (registrable domain evil.com): a.evil.com, b.evil.com',
    );
  });

  it('shows nothing for an incident of one host fingerprinted by host', () => {
    const one = renderIncidentRoot(
      incidentView(anIncident({ hosts: { count: 1, capped: false, sample: ['exfil.example.net'] } })),
    );
    expect(sections(one).some((t) => t.includes('distinct host'))).toBe(false);
    expect(renderIncidentRoot(incidentView(anIncident())).blocks).toEqual(one.blocks);
  });

  it('hostile hosts are shown as literal text and long ones cut; Slack accepts the message', () => {
    const msg = renderIncidentRoot(
      incidentView(
        tunnel({
          domain: 'evil.com',
          count: 4,
          capped: false,
          sample: [
            '<!channel>.evil.com',
            `${'x'.repeat(300)}.evil.com`,
            '*bold*.evil.com',
            '<https://x.evil.com|click>',
          ],
        }),
      ),
    );
    expectSafe(msg);
    const i = sections(msg).findIndex((t) => t.includes('distinct hosts folded'));
    const line = sections(msg)[i] ?? '';
    expect(msg.blocks[i]).toMatchObject({ type: 'rich_text' });
    expect(line).toContain('<!channel>.evil.com, ');
    expect(line).toContain('*bold*.evil.com, <https://x.evil.com|click>');
    expect(line).not.toContain('x'.repeat(80));
    expect(line).toContain(`${'x'.repeat(79)}…`);
  });
});
