// Building blocks for modals (views.open / views.update / response_action: update) and the one place
// that holds a modal to Slack's limits: texts cut visibly, identifiers and private_metadata never cut
// (a cut one would act on the wrong thing: that throws).
import type {
  InputBlock,
  ModalView,
  PlainTextInput,
  PlainTextOption,
  RadioButtons,
  StaticSelect,
} from '@slack/types';
import { truncate } from './escape.js';
import { plain } from './format.js';
import { BlockLimitError, enforceLimits, LIMITS } from './limits.js';
import type { Block } from './types.js';

export type { ModalView };

export const MODAL_LIMITS = {
  privateMetadata: 3000,
  callbackId: 255,
  inputLabel: 2000,
  inputHint: 2000,
  placeholder: 150,
  selectOptions: 100,
  radioOptions: 10,
} as const;

export interface Choice {
  value: string;
  text: string;
}

const option = (c: Choice): PlainTextOption => ({ text: plain(c.text), value: c.value });

export function textInput(
  actionId: string,
  opts: { initial?: string; placeholder?: string; multiline?: boolean; maxLength?: number } = {},
): PlainTextInput {
  return {
    type: 'plain_text_input',
    action_id: actionId,
    ...(opts.initial !== undefined && opts.initial !== '' ? { initial_value: opts.initial } : {}),
    ...(opts.placeholder ? { placeholder: plain(opts.placeholder) } : {}),
    ...(opts.multiline ? { multiline: true } : {}),
    ...(opts.maxLength ? { max_length: opts.maxLength } : {}),
  };
}

export function staticSelect(actionId: string, choices: readonly Choice[], initial?: string): StaticSelect {
  const options = choices.map(option);
  const first = options.find((o) => o.value === initial);
  return { type: 'static_select', action_id: actionId, options, ...(first ? { initial_option: first } : {}) };
}

export function radioButtons(actionId: string, choices: readonly Choice[], initial?: string): RadioButtons {
  const options = choices.map(option);
  const first = options.find((o) => o.value === initial);
  return { type: 'radio_buttons', action_id: actionId, options, ...(first ? { initial_option: first } : {}) };
}

export function input(
  blockId: string,
  label: string,
  element: InputBlock['element'],
  opts: { optional?: boolean; hint?: string; dispatch?: boolean } = {},
): InputBlock {
  return {
    type: 'input',
    block_id: blockId,
    label: plain(label),
    element,
    ...(opts.hint ? { hint: plain(opts.hint) } : {}),
    ...(opts.optional ? { optional: true } : {}),
    ...(opts.dispatch ? { dispatch_action: true } : {}),
  };
}

function cut<T extends { text: string }>(t: T, max: number): T {
  return t.text.length <= max ? t : { ...t, text: truncate(t.text, max) };
}

function checkId(kind: string, value: string | undefined, max: number): void {
  if (value !== undefined && value.length > max) {
    throw new BlockLimitError(`${kind} is ${value.length} characters (Slack allows ${max})`);
  }
}

function element(e: InputBlock['element']): InputBlock['element'] {
  checkId('action_id', e.action_id, LIMITS.actionId);
  if (e.type === 'plain_text_input') {
    return e.placeholder ? { ...e, placeholder: cut(e.placeholder, MODAL_LIMITS.placeholder) } : e;
  }
  if (e.type === 'static_select' || e.type === 'radio_buttons') {
    const max = e.type === 'static_select' ? MODAL_LIMITS.selectOptions : MODAL_LIMITS.radioOptions;
    const options = (e.options ?? []) as PlainTextOption[];
    if (options.length > max)
      throw new BlockLimitError(`${e.type} has ${options.length} options (Slack allows ${max})`);
    for (const o of options) checkId('option value', o.value, LIMITS.optionValue);
    const fix = (o: PlainTextOption) => ({ ...o, text: cut(o.text, LIMITS.optionText) });
    const initial = e.initial_option as PlainTextOption | undefined;
    return {
      ...e,
      options: options.map(fix),
      ...(initial ? { initial_option: fix(initial) } : {}),
    } as InputBlock['element'];
  }
  return e;
}

function block(b: Block): Block {
  if (b.type !== 'input') return b;
  return {
    ...b,
    label: cut(b.label, MODAL_LIMITS.inputLabel),
    ...(b.hint ? { hint: cut(b.hint, MODAL_LIMITS.inputHint) } : {}),
    element: element(b.element),
  };
}

/** A modal within Slack's limits: 100 blocks, titles and buttons of 24, every text cut visibly. */
export function enforceModal(view: ModalView, opts: { incidentId?: string } = {}): ModalView {
  checkId('private_metadata', view.private_metadata, MODAL_LIMITS.privateMetadata);
  checkId('callback_id', view.callback_id, MODAL_LIMITS.callbackId);
  const blocks = enforceLimits((view.blocks as Block[]).map(block), {
    surface: 'modal',
    ...(opts.incidentId ? { incidentId: opts.incidentId } : {}),
  });
  return {
    ...view,
    title: cut(view.title, LIMITS.modalTitle),
    ...(view.submit ? { submit: cut(view.submit, LIMITS.modalButton) } : {}),
    ...(view.close ? { close: cut(view.close, LIMITS.modalButton) } : {}),
    blocks,
  };
}
