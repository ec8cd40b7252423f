// `/egress help`: every subcommand with its usage.
import { escapeMrkdwn, inlineCode } from './escape.js';
import { mrkdwn, plain } from './format.js';
import { enforceMessage, LIMITS } from './limits.js';
import type { Block, SlackMessage } from './types.js';

export interface SubcommandHelp {
  /** `status [id]` (shown as `/egress status [id]`) or a full `/egress …` line. */
  usage: string;
  description: string;
}

/** Usage lines packed into as few sections as the 3000-character limit allows. */
export function renderHelp(subcommands: readonly SubcommandHelp[]): SlackMessage {
  const lines = subcommands.map((c) => {
    const usage = c.usage.startsWith('/') ? c.usage : `/egress ${c.usage}`;
    return `${inlineCode(usage)} — ${escapeMrkdwn(c.description)}`;
  });
  const blocks: Block[] = [{ type: 'header', text: plain('/egress commands') }];
  let current = '';
  for (const line of lines) {
    if (current !== '' && current.length + 1 + line.length > LIMITS.sectionText) {
      blocks.push({ type: 'section', text: mrkdwn(current) });
      current = '';
    }
    current = current === '' ? line : `${current}\n${line}`;
  }
  if (current !== '') blocks.push({ type: 'section', text: mrkdwn(current) });
  blocks.push({
    type: 'context',
    elements: [
      mrkdwn(
        'Slash commands do not work inside threads, so they name the incident id (shown on its root message). ' +
          'Inside an incident thread, mention the bot instead: `status`, `timeline`, `note &lt;text&gt;`.',
      ),
    ],
  });
  return enforceMessage({ text: `/egress commands: ${subcommands.length}`, blocks });
}
