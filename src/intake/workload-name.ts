// Pod name → workload name, from the suffixes Kubernetes controllers add. Pure string work.

/** The alphabet of Kubernetes' rand.String / SafeEncodeString: no vowels, no 0, 1, 3 (no accidental words). */
const SAFE = '[bcdfghjklmnpqrstvwxz2456789]';
/** Deployment pod: <name>-<pod-template-hash (6–10)>-<5 random>. */
const DEPLOYMENT = new RegExp(`-${SAFE}{6,10}-${SAFE}{5}$`);
/** StatefulSet pod: <name>-<ordinal>. */
const STATEFULSET = /-(?:0|[1-9]\d{0,5})$/;
/** DaemonSet (and Job) pod: <name>-<5 random>. */
const DAEMONSET = new RegExp(`-${SAFE}{5}$`);

/** A controller's name ends with a lower-case letter or digit, as every Kubernetes object name does. */
const NAME_END = /[a-z0-9]$/;

/**
 * `payments-api-7d9f8b6c5d-x2x7q` → `payments-api` (Deployment), `web-0` → `web` (StatefulSet),
 * `node-exporter-x2x7q` → `node-exporter` (DaemonSet). A name that matches no pattern, or whose prefix
 * could not be a controller's name (`a--0` would leave `a-`), is returned unchanged.
 */
export function workloadFromPodName(pod: string): string {
  for (const pattern of [DEPLOYMENT, STATEFULSET, DAEMONSET]) {
    const m = pattern.exec(pod);
    if (m && m.index > 0 && NAME_END.test(pod.slice(m.index - 1, m.index))) return pod.slice(0, m.index);
  }
  return pod;
}
