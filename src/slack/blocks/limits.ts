// The one place that knows Block Kit's limits. Every renderer's output passes through
// enforceLimits(): text is cut visibly, never rejected by Slack (`invalid_blocks`) and never lost
// silently. Identifiers (block_id, action_id, button/option values) are never cut: a cut id would
// act on the wrong thing, so an over-long id is a programming error and throws.
import { escapeEntities, truncate } from './escape.js';
import type { Block, Button, Checkboxes, ConfirmationDialog, SlackMessage } from './types.js';

export const LIMITS = {
  /** Blocks in a message (chat.postMessage / chat.update / ephemeral / respond). */
  messageBlocks: 50,
  /** Blocks in a modal or App Home view. */
  modalBlocks: 100,
  /** The top-level `text` of a message: Slack truncates at 40 000; 4 000 is its advice. */
  messageText: 4000,
  sectionText: 3000,
  /** A rich_text block's text in all: Slack documents none, we hold it to a section's. */
  richText: 3000,
  sectionFields: 10,
  fieldText: 2000,
  headerText: 150,
  /** Each text element of a context block (a text object: 3000). */
  contextText: 3000,
  contextElements: 10,
  actionsElements: 25,
  buttonText: 75,
  buttonValue: 2000,
  buttonUrl: 3000,
  actionId: 255,
  blockId: 255,
  /** Option text (plain_text or mrkdwn) in checkboxes, selects, radio buttons. */
  optionText: 75,
  optionValue: 150,
  optionDescription: 75,
  checkboxOptions: 10,
  confirmTitle: 100,
  confirmText: 300,
  confirmButton: 30,
  modalTitle: 24,
  modalButton: 24,
} as const;

export interface EnforceOptions {
  /** `message` (50 blocks, the default) or `modal` (100). */
  surface?: 'message' | 'modal';
  /** Named in the "more blocks not shown" line: `see /egress timeline <id>`. */
  incidentId?: string;
}

export class BlockLimitError extends Error {
  override readonly name = 'BlockLimitError';
}

function checkId(kind: string, value: string | undefined, max: number): void {
  if (value !== undefined && value.length > max) {
    throw new BlockLimitError(
      `${kind} is ${value.length} characters (Slack allows ${max}): ${value.slice(0, 80)}…`,
    );
  }
}

function text<T extends { text: string }>(obj: T, max: number): T {
  const t = obj.text.length === 0 ? ' ' : truncate(obj.text, max);
  return t === obj.text ? obj : { ...obj, text: t };
}

function confirm(c: ConfirmationDialog): ConfirmationDialog {
  return {
    ...c,
    ...(c.title ? { title: text(c.title, LIMITS.confirmTitle) } : {}),
    text: text(c.text, LIMITS.confirmText),
    ...(c.confirm ? { confirm: text(c.confirm, LIMITS.confirmButton) } : {}),
    ...(c.deny ? { deny: text(c.deny, LIMITS.confirmButton) } : {}),
  };
}

function button(b: Button): Button {
  checkId('action_id', b.action_id, LIMITS.actionId);
  checkId('button value', b.value, LIMITS.buttonValue);
  checkId('button url', b.url, LIMITS.buttonUrl);
  return {
    ...b,
    text: text(b.text, LIMITS.buttonText),
    ...(b.confirm ? { confirm: confirm(b.confirm) } : {}),
  };
}

function checkboxes(c: Checkboxes): Checkboxes {
  checkId('action_id', c.action_id, LIMITS.actionId);
  if (c.options.length > LIMITS.checkboxOptions) {
    throw new BlockLimitError(
      `checkboxes has ${c.options.length} options (Slack allows ${LIMITS.checkboxOptions}); split them across blocks`,
    );
  }
  const option = <O extends Checkboxes['options'][number]>(o: O): O => {
    checkId('option value', o.value, LIMITS.optionValue);
    return {
      ...o,
      text: text(o.text, LIMITS.optionText),
      ...(o.description ? { description: text(o.description, LIMITS.optionDescription) } : {}),
    };
  };
  return {
    ...c,
    options: c.options.map(option),
    ...(c.initial_options ? { initial_options: c.initial_options.map(option) } : {}),
    ...(c.confirm ? { confirm: confirm(c.confirm) } : {}),
  };
}

function block(b: Block): Block {
  checkId('block_id', b.block_id, LIMITS.blockId);
  switch (b.type) {
    case 'header':
      return { ...b, text: text(b.text, LIMITS.headerText) };
    case 'section': {
      const out = { ...b };
      if (b.text) out.text = text(b.text, LIMITS.sectionText);
      if (b.fields) {
        const fields = b.fields.map((f) => text(f, LIMITS.fieldText));
        if (fields.length > LIMITS.sectionFields) {
          const rest = fields.length - (LIMITS.sectionFields - 1);
          fields.splice(LIMITS.sectionFields - 1, rest, { type: 'mrkdwn', text: `… ${rest} more not shown` });
        }
        out.fields = fields;
      }
      if (b.accessory?.type === 'button') out.accessory = button(b.accessory);
      else if (b.accessory?.type === 'checkboxes') out.accessory = checkboxes(b.accessory);
      return out;
    }
    case 'context': {
      const elements = b.elements.map((e) =>
        e.type === 'mrkdwn' || e.type === 'plain_text' ? text(e, LIMITS.contextText) : e,
      );
      if (elements.length > LIMITS.contextElements) {
        const rest = elements.length - (LIMITS.contextElements - 1);
        elements.splice(LIMITS.contextElements - 1, rest, {
          type: 'mrkdwn',
          text: `… ${rest} more not shown`,
        });
      }
      return { ...b, elements };
    }
    case 'actions': {
      if (b.elements.length > LIMITS.actionsElements) {
        throw new BlockLimitError(
          `an actions block has ${b.elements.length} elements (Slack allows ${LIMITS.actionsElements})`,
        );
      }
      return {
        ...b,
        elements: b.elements.map((e) =>
          e.type === 'button' ? button(e) : e.type === 'checkboxes' ? checkboxes(e) : e,
        ),
      };
    }
    default:
      return b;
  }
}

/**
 * Apply Block Kit limits to a list of blocks: every text cut visibly to its limit, and above the
 * surface's block limit the first (limit - 1) blocks kept plus a final context line
 * `… N more blocks not shown (see /egress timeline <id>)`. Pure; the input is not modified.
 * Throws BlockLimitError for an identifier or value that is too long (never cut silently).
 */
export function enforceLimits(blocks: readonly Block[], opts: EnforceOptions = {}): Block[] {
  const max = opts.surface === 'modal' ? LIMITS.modalBlocks : LIMITS.messageBlocks;
  const out = blocks.map(block);
  if (out.length <= max) return out;
  const hidden = out.length - (max - 1);
  const where = opts.incidentId ? ` (see /egress timeline ${escapeEntities(opts.incidentId)})` : '';
  return [
    ...out.slice(0, max - 1),
    {
      type: 'context',
      elements: [
        { type: 'mrkdwn', text: truncate(`… ${hidden} more blocks not shown${where}`, LIMITS.contextText) },
      ],
    },
  ];
}

/** enforceLimits for a whole message, plus the fallback `text`. */
export function enforceMessage(message: SlackMessage, opts: EnforceOptions = {}): SlackMessage {
  return { text: truncate(message.text, LIMITS.messageText), blocks: enforceLimits(message.blocks, opts) };
}
