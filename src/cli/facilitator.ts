import type { Facilitator, FacilitatorAnswer, WaitingStep } from '../drills/runner.js';
import { renderStep } from '../slack/blocks/index.js';
import type { Block } from '../slack/blocks/types.js';
import type { Io } from './io.js';

// `drill --interactive`: a facilitator answers the drill's checklists, confirmations and approvals at
// a prompt, reading the same step message the incident thread would show (the Slack renderer's
// blocks, as text). An empty answer or end of input stops the drill there: the scorecard then says the
// step still waits.

/** Block Kit as terminal text: headers, sections, fields and context lines, in order. */
export function blocksAsText(blocks: readonly Block[]): string {
  const text = (t: unknown): string =>
    t && typeof t === 'object' && 'text' in t ? String((t as { text: unknown }).text) : '';
  const lines: string[] = [];
  for (const b of blocks as unknown as readonly Record<string, unknown>[]) {
    if (b.text) lines.push(text(b.text));
    if (Array.isArray(b.fields)) lines.push(b.fields.map(text).join('  '));
    if (Array.isArray(b.elements)) {
      const parts = b.elements.map(text).filter((t) => t !== '');
      if (parts.length > 0) lines.push(parts.join(' '));
    }
    if (b.type === 'actions' || (b.accessory && typeof b.accessory === 'object')) {
      const els = (Array.isArray(b.elements) ? b.elements : [b.accessory]) as Record<string, unknown>[];
      const labels = els.map((e) => text(e.text)).filter((t) => t !== '');
      if (labels.length > 0) lines.push(`[${labels.join('] [')}]`);
    }
  }
  // Slack's entities, as a terminal shows them.
  return lines.join('\n').replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&amp;', '&');
}

const yes = (a: string | undefined) => a !== undefined && /^y(es)?$/i.test(a.trim());

export function promptFacilitator(
  io: Io & { ask(question: string): Promise<string | undefined> },
): Facilitator {
  // Once the facilitator stops, the drill stays stopped (later waves and other incidents are not asked).
  let stopped = false;
  const stop = (): FacilitatorAnswer => {
    stopped = true;
    return { kind: 'stop' };
  };
  return {
    async answer({ incident, step, state }: WaitingStep): Promise<FacilitatorAnswer> {
      if (stopped) return { kind: 'stop' };
      io.out(`\n${blocksAsText(renderStep(incident, step, state).blocks)}`);
      if (state.status === 'awaiting_input') {
        const items: string[] = [];
        for (const item of step.checklist.filter((i) => !state.checklist[i.id])) {
          const a = await io.ask(`Tick "${item.text}"? [y/N, empty to stop] `);
          if (a === undefined || a.trim() === '') return stop();
          if (yes(a)) items.push(item.id);
        }
        return items.length > 0 ? { kind: 'tick', items, by: 'cli:facilitator' } : stop();
      }
      if (state.status === 'awaiting_confirmation') {
        return yes(await io.ask('Confirm and apply (as a dry-run)? [y/N] '))
          ? { kind: 'confirm', by: 'cli:facilitator' }
          : stop();
      }
      const requester = state.requestedBy ? ` (requested by ${state.requestedBy}, who may not approve)` : '';
      const a = (
        await io.ask(`Approve${requester}: your name to approve, "-" to deny, empty to stop: `)
      )?.trim();
      if (!a) return stop();
      if (a === '-') return { kind: 'deny', by: 'cli:facilitator' };
      return { kind: 'approve', by: `cli:${a.replace(/[^A-Za-z0-9._-]/g, '').slice(0, 40) || 'approver'}` };
    },
  };
}
