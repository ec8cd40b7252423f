import { z } from 'zod';
import { CodedError } from '../../domain/errors.js';

// Reading Kubernetes JSON the way the API server means it. The server is Go: a nil pointer, map or
// slice is written as `null` or left out, and both mean the same thing (absent). So every object
// schema here drops null members before it looks at them, and an absent field keeps its API meaning
// (`ports` absent = all ports, `to` absent = everywhere, `podSelector` `{}` = all pods…) in the code
// that reads it. A `null` element of a list of structs decodes in Go to the struct's zero value, `{}`,
// and is read the same way here.

function withoutNulls(value: unknown): unknown {
  if (value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) return value;
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== null));
}

/** An object of the API: null members are absent, unknown members are kept (the API grows). */
export function kubeObject<S extends z.ZodRawShape>(shape: S) {
  return z.preprocess(withoutNulls, z.looseObject(shape));
}

/** `map[string]string` (labels, annotations, matchLabels). */
export const StringMap = z.record(z.string(), z.string());

/** Which object a reading failed on, for the error people see. */
export interface ObjectName {
  kind: string;
  namespace?: string | undefined;
  name?: string | undefined;
}

function describe(obj: ObjectName): string {
  const where = [obj.namespace, obj.name ?? '<unnamed>'].filter((p) => p !== undefined).join('/');
  return `${obj.kind} ${where}`;
}

/** `spec.egress[0].ports[1].port` */
function fieldPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (out, key) => (typeof key === 'number' ? `${out}[${key}]` : `${out}${out ? '.' : ''}${String(key)}`),
    '',
  );
}

/**
 * `raw` read with `schema`, or a user-safe error naming the object and the first field that could not
 * be read: a cluster object we do not understand stops the analysis with a sentence, never a TypeError.
 */
export function readObject<T>(schema: z.ZodType<T>, raw: unknown, obj: ObjectName): T {
  const res = schema.safeParse(raw);
  if (res.success) return res.data;
  const issues = res.error.issues.map((i) => ({ path: fieldPath(i.path), message: i.message }));
  const first = issues[0];
  throw new CodedError(
    'k8s_invalid',
    `cannot read ${describe(obj)}: ${first?.path || '(the object)'}: ${first?.message ?? 'unreadable'}`,
    { issues, details: { kind: obj.kind, namespace: obj.namespace, name: obj.name, field: first?.path } },
  );
}
