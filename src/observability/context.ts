// What is happening now, for every log line and span made while it happens: the incident, step and
// action a piece of work belongs to. Carried by AsyncLocalStorage so code deep inside (the journal,
// the store, the Kubernetes client's retries) need not be handed a logger to say which incident it
// was working for.
import { AsyncLocalStorage } from 'node:async_hooks';

export interface WorkContext {
  incident?: string;
  step?: string;
  action?: string;
  /** plan | apply | revert: which part of an action. */
  phase?: string;
}

const current = new AsyncLocalStorage<WorkContext>();

/** Run `fn` with these fields added to the current context (inner fields win). */
export function withWorkContext<T>(fields: WorkContext, fn: () => T): T {
  return current.run({ ...current.getStore(), ...fields }, fn);
}

export function workContext(): WorkContext | undefined {
  return current.getStore();
}
