// Pod logs for the fake API server, per container, current and previous (`previous=true`: the
// container instance before its last restart), answering what the real API server answers:
// `tailLines`, a 400 "previous terminated container … not found" when there is no previous
// instance, a 400 for a container the pod does not have.
import type { JsonObject } from './patch.js';
import { badRequest } from './status.js';

export interface PodLogOptions {
  /** Absent: the log of the pod's one container (what `setPodLog` without a container always meant). */
  container?: string;
  /** The previous (terminated) instance of the container. */
  previous?: boolean;
}

function containerNames(pod: JsonObject): string[] {
  const spec = (pod.spec ?? {}) as {
    containers?: { name?: unknown }[];
    initContainers?: { name?: unknown }[];
  };
  return [...(spec.containers ?? []), ...(spec.initContainers ?? [])]
    .map((c) => c.name)
    .filter((n): n is string => typeof n === 'string');
}

export class FakePodLogs {
  readonly #logs = new Map<string, string>();

  #key(namespace: string, pod: string, container: string, previous: boolean): string {
    return `${namespace}/${pod}/${container}/${previous ? 'previous' : 'current'}`;
  }

  set(namespace: string, pod: string, text: string, opts: PodLogOptions = {}): void {
    this.#logs.set(this.#key(namespace, pod, opts.container ?? '', opts.previous ?? false), text);
  }

  clear(): void {
    this.#logs.clear();
  }

  /** The log text a GET …/pods/<name>/log answers with, or the 400 the real server gives. */
  read(namespace: string, podName: string, pod: JsonObject, q: URLSearchParams): string {
    const names = containerNames(pod);
    const asked = q.get('container') ?? undefined;
    const previous = q.get('previous') === 'true';
    const podLevel = this.#logs.get(this.#key(namespace, podName, '', previous));
    if (asked === undefined && names.length > 1 && podLevel === undefined) {
      throw badRequest(
        `a container name must be specified for pod ${podName}, choose one of: [${names.join(' ')}]`,
      );
    }
    if (asked !== undefined && names.length > 0 && !names.includes(asked)) {
      throw badRequest(`container ${asked} is not valid for pod ${podName}`);
    }
    const container = asked ?? names[0] ?? '';
    // A log set without naming the container stands for the pod's (one) container's.
    const text = this.#logs.get(this.#key(namespace, podName, container, previous)) ?? podLevel;
    if (text === undefined && previous) {
      throw badRequest(`previous terminated container "${container}" in pod "${podName}" not found`);
    }
    return tail(text ?? '', q.get('tailLines'));
  }
}

function tail(text: string, tailLines: string | null): string {
  if (tailLines === null) return text;
  const n = Number(tailLines);
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const kept = n <= 0 ? [] : lines.slice(-n);
  return kept.length === 0 ? '' : `${kept.join('\n')}\n`;
}
