// An independent check of Block Kit payloads, the way Slack answers `invalid_blocks`. Written
// separately from src/slack/blocks/limits.ts on purpose: the renderer tests use it as a second
// opinion, and the fake Slack API rejects what Slack would reject.

export interface BlockProblem {
  /** JSON pointer, as Slack reports it: `/blocks/3/text`. */
  pointer: string;
  message: string;
}

const isObj = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

const MAX = {
  label: 2000,
  placeholder: 150,
  selectOptions: 100,
  radioOptions: 10,
  title: 24,
  metadata: 3000,
  message: 50,
  modal: 100,
  section: 3000,
  field: 2000,
  fields: 10,
  header: 150,
  context: 10,
  actions: 25,
  buttonText: 75,
  value: 2000,
  id: 255,
  optionText: 75,
  optionValue: 150,
  checkboxOptions: 10,
  confirmTitle: 100,
  confirmText: 300,
  confirmButton: 30,
};

function textObject(
  v: unknown,
  at: string,
  max: number,
  out: BlockProblem[],
  kinds = ['plain_text', 'mrkdwn'],
) {
  if (!isObj(v) || typeof v.type !== 'string' || !kinds.includes(v.type) || typeof v.text !== 'string') {
    out.push({ pointer: at, message: `expected a text object (${kinds.join(' or ')})` });
    return;
  }
  if (v.text.length === 0) out.push({ pointer: `${at}/text`, message: 'must be at least 1 character' });
  if (v.text.length > max)
    out.push({ pointer: `${at}/text`, message: `must be at most ${max} characters (is ${v.text.length})` });
}

function idField(v: unknown, at: string, max: number, out: BlockProblem[]) {
  if (v === undefined) return;
  if (typeof v !== 'string' || v.length === 0 || v.length > max) {
    out.push({ pointer: at, message: `must be a string of 1 to ${max} characters` });
  }
}

function confirm(v: unknown, at: string, out: BlockProblem[]) {
  if (v === undefined) return;
  if (!isObj(v)) {
    out.push({ pointer: at, message: 'expected a confirmation dialog object' });
    return;
  }
  if (v.title !== undefined) textObject(v.title, `${at}/title`, MAX.confirmTitle, out, ['plain_text']);
  textObject(v.text, `${at}/text`, MAX.confirmText, out);
  if (v.confirm !== undefined) textObject(v.confirm, `${at}/confirm`, MAX.confirmButton, out, ['plain_text']);
  if (v.deny !== undefined) textObject(v.deny, `${at}/deny`, MAX.confirmButton, out, ['plain_text']);
}

function element(v: unknown, at: string, out: BlockProblem[], actionIds: Set<string>) {
  if (!isObj(v) || typeof v.type !== 'string') {
    out.push({ pointer: at, message: 'expected an element object' });
    return;
  }
  idField(v.action_id, `${at}/action_id`, MAX.id, out);
  if (typeof v.action_id === 'string') {
    if (actionIds.has(v.action_id))
      out.push({ pointer: `${at}/action_id`, message: 'action_id must be unique within a block' });
    actionIds.add(v.action_id);
  }
  if (v.type === 'button') {
    textObject(v.text, `${at}/text`, MAX.buttonText, out, ['plain_text']);
    idField(v.value, `${at}/value`, MAX.value, out);
    if (v.style !== undefined && v.style !== 'primary' && v.style !== 'danger')
      out.push({ pointer: `${at}/style`, message: 'must be primary or danger' });
    confirm(v.confirm, `${at}/confirm`, out);
  } else if (v.type === 'checkboxes') {
    const options = Array.isArray(v.options) ? v.options : [];
    if (options.length === 0 || options.length > MAX.checkboxOptions)
      out.push({ pointer: `${at}/options`, message: `must have 1 to ${MAX.checkboxOptions} options` });
    const values = new Set<string>();
    options.forEach((o, i) => {
      if (!isObj(o)) {
        out.push({ pointer: `${at}/options/${i}`, message: 'expected an option' });
        return;
      }
      textObject(o.text, `${at}/options/${i}/text`, MAX.optionText, out);
      idField(o.value, `${at}/options/${i}/value`, MAX.optionValue, out);
      if (typeof o.value === 'string') values.add(JSON.stringify(o));
    });
    if (v.initial_options !== undefined) {
      const initial = Array.isArray(v.initial_options) ? v.initial_options : [];
      initial.forEach((o, i) => {
        if (!values.has(JSON.stringify(o)))
          out.push({
            pointer: `${at}/initial_options/${i}`,
            message: 'must exactly match one of the options',
          });
      });
    }
    confirm(v.confirm, `${at}/confirm`, out);
  }
}

function options(v: Record<string, unknown>, at: string, max: number, out: BlockProblem[]) {
  const list = Array.isArray(v.options) ? v.options : [];
  if (list.length === 0 || list.length > max)
    out.push({ pointer: `${at}/options`, message: `must have 1 to ${max} options` });
  const seen = new Set<string>();
  list.forEach((o, i) => {
    if (!isObj(o)) {
      out.push({ pointer: `${at}/options/${i}`, message: 'expected an option' });
      return;
    }
    textObject(o.text, `${at}/options/${i}/text`, MAX.optionText, out);
    idField(o.value, `${at}/options/${i}/value`, MAX.optionValue, out);
    seen.add(JSON.stringify(o));
  });
  if (v.initial_option !== undefined && !seen.has(JSON.stringify(v.initial_option)))
    out.push({ pointer: `${at}/initial_option`, message: 'must exactly match one of the options' });
}

/** The element of an input block (the kinds this bot uses; others are not checked). */
function inputElement(v: unknown, at: string, out: BlockProblem[]) {
  if (!isObj(v) || typeof v.type !== 'string') {
    out.push({ pointer: at, message: 'expected an element object' });
    return;
  }
  idField(v.action_id, `${at}/action_id`, MAX.id, out);
  if (v.placeholder !== undefined)
    textObject(v.placeholder, `${at}/placeholder`, MAX.placeholder, out, ['plain_text']);
  if (v.type === 'plain_text_input') {
    if (
      v.max_length !== undefined &&
      (typeof v.max_length !== 'number' || v.max_length < 1 || v.max_length > 3000)
    )
      out.push({ pointer: `${at}/max_length`, message: 'must be 1 to 3000' });
    if (
      typeof v.initial_value === 'string' &&
      typeof v.max_length === 'number' &&
      v.initial_value.length > v.max_length
    )
      out.push({ pointer: `${at}/initial_value`, message: 'longer than max_length' });
  } else if (v.type === 'static_select') {
    options(v, at, MAX.selectOptions, out);
  } else if (v.type === 'radio_buttons') {
    options(v, at, MAX.radioOptions, out);
  }
}

function block(b: unknown, at: string, out: BlockProblem[], blockIds: Set<string>) {
  if (!isObj(b) || typeof b.type !== 'string') {
    out.push({ pointer: at, message: 'expected a block object with a type' });
    return;
  }
  idField(b.block_id, `${at}/block_id`, MAX.id, out);
  if (typeof b.block_id === 'string') {
    if (blockIds.has(b.block_id))
      out.push({ pointer: `${at}/block_id`, message: 'block_id must be unique within a message' });
    blockIds.add(b.block_id);
  }
  switch (b.type) {
    case 'header':
      textObject(b.text, `${at}/text`, MAX.header, out, ['plain_text']);
      break;
    case 'section':
      if (b.text === undefined && b.fields === undefined)
        out.push({ pointer: at, message: 'a section needs text or fields' });
      if (b.text !== undefined) textObject(b.text, `${at}/text`, MAX.section, out);
      if (b.fields !== undefined) {
        const fields = Array.isArray(b.fields) ? b.fields : [];
        if (fields.length > MAX.fields)
          out.push({ pointer: `${at}/fields`, message: `at most ${MAX.fields} fields` });
        fields.forEach((f, i) => {
          textObject(f, `${at}/fields/${i}`, MAX.field, out);
        });
      }
      if (b.accessory !== undefined) element(b.accessory, `${at}/accessory`, out, new Set());
      break;
    case 'context': {
      const elements = Array.isArray(b.elements) ? b.elements : [];
      if (elements.length === 0 || elements.length > MAX.context)
        out.push({ pointer: `${at}/elements`, message: `must have 1 to ${MAX.context} elements` });
      elements.forEach((e, i) => {
        if (isObj(e) && e.type === 'image') return;
        textObject(e, `${at}/elements/${i}`, MAX.section, out);
      });
      break;
    }
    case 'actions': {
      const elements = Array.isArray(b.elements) ? b.elements : [];
      if (elements.length === 0 || elements.length > MAX.actions)
        out.push({ pointer: `${at}/elements`, message: `must have 1 to ${MAX.actions} elements` });
      const ids = new Set<string>();
      elements.forEach((e, i) => {
        element(e, `${at}/elements/${i}`, out, ids);
      });
      break;
    }
    case 'input':
      textObject(b.label, `${at}/label`, MAX.label, out, ['plain_text']);
      if (b.hint !== undefined) textObject(b.hint, `${at}/hint`, MAX.label, out, ['plain_text']);
      inputElement(b.element, `${at}/element`, out);
      break;
    default:
      break;
  }
}

/** Problems Slack would report for these blocks on a message (or a modal with `surface: 'modal'`). */
export function blockProblems(blocks: unknown, surface: 'message' | 'modal' = 'message'): BlockProblem[] {
  const out: BlockProblem[] = [];
  if (!Array.isArray(blocks)) return [{ pointer: '/blocks', message: 'must be an array' }];
  const max = surface === 'modal' ? MAX.modal : MAX.message;
  if (blocks.length > max) out.push({ pointer: '/blocks', message: `no more than ${max} items allowed` });
  const blockIds = new Set<string>();
  blocks.forEach((b, i) => {
    block(b, `/blocks/${i}`, out, blockIds);
  });
  return out;
}

/** Problems Slack would report for a modal view (views.open / views.update / response_action). */
export function viewProblems(view: unknown): BlockProblem[] {
  if (!isObj(view)) return [{ pointer: '/view', message: 'expected a view object' }];
  const out: BlockProblem[] = [];
  if (view.type !== 'modal') out.push({ pointer: '/view/type', message: 'must be modal' });
  textObject(view.title, '/view/title', MAX.title, out, ['plain_text']);
  if (view.submit !== undefined) textObject(view.submit, '/view/submit', MAX.title, out, ['plain_text']);
  if (view.close !== undefined) textObject(view.close, '/view/close', MAX.title, out, ['plain_text']);
  idField(view.callback_id, '/view/callback_id', MAX.id, out);
  if (
    view.private_metadata !== undefined &&
    (typeof view.private_metadata !== 'string' || view.private_metadata.length > MAX.metadata)
  )
    out.push({
      pointer: '/view/private_metadata',
      message: `must be a string of at most ${MAX.metadata} characters`,
    });
  const blocks = Array.isArray(view.blocks) ? view.blocks : [];
  if (view.submit === undefined && blocks.some((b) => isObj(b) && b.type === 'input'))
    out.push({ pointer: '/view/submit', message: 'a modal with input blocks needs a submit button' });
  out.push(...blockProblems(view.blocks, 'modal').map((p) => ({ ...p, pointer: `/view${p.pointer}` })));
  return out;
}
