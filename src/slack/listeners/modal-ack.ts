import type { ViewResponseAction } from '@slack/bolt';
import { renderNoticeModal } from '../blocks/breakglass-modals.js';

// What every modal listener shares: Slack waits 3 s for the answer to a view submission, so a
// command that may take longer is raced against a budget; the modal then says "working on it" and
// is updated with the outcome when it settles.

/** Leave room under Slack's 3 s for the answer's own trip. */
export const ACK_BUDGET_MS = 2300;

export type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

export function settle<T>(p: Promise<T>): Promise<Settled<T>> {
  return p.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
}

/** The outcome if it settles within `ms`; undefined otherwise (`settled` still resolves later). */
export async function within<T>(
  settled: Promise<Settled<T>>,
  ms = ACK_BUDGET_MS,
): Promise<Settled<T> | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  try {
    return await Promise.race([settled, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** An ack that can be called once (a second one throws in Bolt): later calls do nothing. */
export function ackOnce(ack: (r?: ViewResponseAction) => Promise<void>) {
  let done = false;
  return {
    get done() {
      return done;
    },
    async send(r?: ViewResponseAction): Promise<void> {
      if (done) return;
      done = true;
      await ack(r);
    },
  };
}

/** A submission whose private_metadata did not open: not a modal the bot showed this person. */
export const notYours = (): ViewResponseAction => ({
  response_action: 'update',
  view: renderNoticeModal('Not submitted', [
    '⚠️ This form was not opened for you, or it was changed on the way: nothing was done. Start again from the incident.',
  ]),
});
