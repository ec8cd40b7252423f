// What kube-controller-manager would do after a write, done synchronously so tests stay deterministic:
// the Deployment controller (a ReplicaSet per pod template, rollouts), the ReplicaSet controller
// (pods from the template, adoption of matching orphans, release of pods whose labels no longer match,
// scaling back to `replicas`) and the StatefulSet controller (ordinal pods `<sts>-<n>`). Each
// controller acts only on objects that exist in the fake: a store with no Deployment, ReplicaSet or
// StatefulSet is never touched. The end state is what the real controllers converge to; the steps in
// between (surge pods, readiness delays) are not modelled. Pods the controllers make are Running and
// Ready at once. Garbage collection (deleting what an owner left behind) is not modelled either.
import { createHash } from 'node:crypto';
import { clone, deepEqual, isObject, type JsonObject, type JsonValue } from './patch.js';

/** What the controllers may do to the fake's store (the server adapts its private maps). */
export interface ControllerStore {
  /** Live objects of a kind (`Pod`, `ReplicaSet` …), copies. */
  list(kind: string, namespace?: string): JsonObject[];
  /** Store a new object: uid, creationTimestamp, generation and resourceVersion are filled in. */
  create(obj: JsonObject): JsonObject;
  /** Store a changed object under a new resourceVersion. */
  update(obj: JsonObject): void;
  remove(kind: string, namespace: string, name: string): void;
}

export const POD_TEMPLATE_HASH = 'pod-template-hash';
const REVISION = 'deployment.kubernetes.io/revision';
const STS_REVISION = 'controller-revision-hash';
/** The alphabet of generated name suffixes (k8s.io/apimachinery/pkg/util/rand: no vowels, no 0/1/3). */
const SAFE = 'bcdfghjklmnpqrstvwxz2456789';

type Obj = JsonObject;
type Labels = Record<string, string>;
interface Requirement {
  key: string;
  operator: string;
  values?: string[];
}
interface Selector {
  matchLabels?: Labels;
  matchExpressions?: Requirement[];
}

/** `o[key]` as an object, made one when absent (the controllers write into it). */
function child(o: Obj, key: string): Obj {
  if (!isObject(o[key])) o[key] = {};
  return o[key] as Obj;
}
const meta = (o: Obj): Obj => child(o, 'metadata');
const spec = (o: Obj): Obj => child(o, 'spec');
const nameOf = (o: Obj) => String(meta(o).name);
const nsOf = (o: Obj) => String(meta(o).namespace ?? 'default');
const uidOf = (o: Obj) => String(meta(o).uid);
const labelsOf = (o: Obj): Labels => (isObject(meta(o).labels) ? (meta(o).labels as Labels) : {});
const terminating = (o: Obj) => meta(o).deletionTimestamp !== undefined;
const replicasOf = (o: Obj) => (typeof spec(o).replicas === 'number' ? (spec(o).replicas as number) : 1);
const running = (p: Obj) => isObject(p.status) && p.status.phase === 'Running';

/** metav1.LabelSelectorAsSelector: every matchLabels pair and every expression must hold; `{}` selects all. */
export function selectorMatches(sel: unknown, labels: Labels): boolean {
  if (!isObject(sel)) return false; // a nil selector selects nothing (an empty one selects everything)
  const s = sel as unknown as Selector;
  const pairs = Object.entries(s.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
  return (
    pairs &&
    (s.matchExpressions ?? []).every((r) => {
      const has = Object.hasOwn(labels, r.key);
      const values = r.values ?? [];
      switch (r.operator) {
        case 'In':
          return has && values.includes(labels[r.key]!);
        case 'NotIn':
          return !has || !values.includes(labels[r.key]!);
        case 'Exists':
          return has;
        case 'DoesNotExist':
          return !has;
        default:
          return false;
      }
    })
  );
}

export function controllerRef(o: Obj): Obj | undefined {
  const refs = meta(o).ownerReferences;
  return Array.isArray(refs) ? (refs.find((r) => isObject(r) && r.controller === true) as Obj) : undefined;
}

function ownerRefTo(owner: Obj): Obj {
  return {
    apiVersion: String(owner.apiVersion),
    kind: String(owner.kind),
    name: nameOf(owner),
    uid: uidOf(owner),
    controller: true,
    blockOwnerDeletion: true,
  };
}

const ownedBy = (o: Obj, owner: Obj) => controllerRef(o)?.uid === uidOf(owner);

/** A stable short hash in the safe alphabet (the real one is FNV-32a of the template; any stable one will do). */
function shortHash(value: JsonValue, salt: number, length = 10): string {
  const digest = createHash('sha256')
    .update(JSON.stringify(canonical(value)))
    .update(String(salt))
    .digest();
  let out = '';
  for (let i = 0; i < length; i++) out += SAFE[digest[i]! % SAFE.length];
  return out;
}

function canonical(v: JsonValue): JsonValue {
  if (Array.isArray(v)) return v.map(canonical);
  if (isObject(v))
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, canonical(v[k]!)]),
    );
  return v;
}

/** Runs the controllers until nothing changes (bounded: a bug must not hang a test). */
export class Controllers {
  readonly #store: ControllerStore;
  #podIp = 0;
  #names = 0;
  #changed = false;

  constructor(store: ControllerStore) {
    this.#store = store;
  }

  reconcile(): void {
    for (let pass = 0; pass < 10; pass++) {
      this.#changed = false;
      for (const d of this.#store.list('Deployment')) if (!terminating(d)) this.#deployment(d);
      for (const rs of this.#store.list('ReplicaSet')) if (!terminating(rs)) this.#replicaSet(rs);
      for (const sts of this.#store.list('StatefulSet')) if (!terminating(sts)) this.#statefulSet(sts);
      for (const d of this.#store.list('Deployment')) if (!terminating(d)) this.#deploymentStatus(d);
      if (!this.#changed) return;
    }
    throw new Error('fake controllers did not settle in 10 passes');
  }

  #update(before: Obj, after: Obj): void {
    if (deepEqual(before, after)) return;
    this.#store.update(after);
    this.#changed = true;
  }

  // ---- Deployment: one ReplicaSet per pod template; the current one gets every replica ----

  #deployment(d: Obj): void {
    if (spec(d).paused === true) return; // a paused Deployment neither rolls out nor scales
    const template = clone(spec(d).template ?? {}) as Obj;
    const owned = this.#store.list('ReplicaSet', nsOf(d)).filter((rs) => ownedBy(rs, d) && !terminating(rs));
    let current = owned.find((rs) => deepEqual(withoutHash(spec(rs).template), template));
    if (!current) current = this.#newReplicaSet(d, template, owned);
    for (const rs of owned) {
      const wanted = uidOf(rs) === uidOf(current) ? replicasOf(d) : 0;
      if (replicasOf(rs) !== wanted) {
        const next = clone(rs);
        spec(next).replicas = wanted;
        this.#update(rs, next);
      }
    }
  }

  #newReplicaSet(d: Obj, template: Obj, owned: Obj[]): Obj {
    const existing = new Set(this.#store.list('ReplicaSet', nsOf(d)).map(nameOf));
    let collisions = 0;
    let hash = shortHash(template, collisions);
    while (existing.has(`${nameOf(d)}-${hash}`)) hash = shortHash(template, ++collisions);
    const revisions = owned.map((rs) =>
      Number((meta(rs).annotations as Labels | undefined)?.[REVISION] ?? 0),
    );
    const tmpl = clone(template);
    const tmeta = child(tmpl, 'metadata');
    const labels = { ...((tmeta.labels as Labels | undefined) ?? {}), [POD_TEMPLATE_HASH]: hash };
    tmeta.labels = labels;
    const selector = clone((spec(d).selector ?? {}) as Obj) as Selector;
    const rs = this.#store.create({
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: {
        namespace: nsOf(d),
        name: `${nameOf(d)}-${hash}`,
        labels,
        annotations: { [REVISION]: String(Math.max(0, ...revisions) + 1) },
        ownerReferences: [ownerRefTo(d)],
      },
      spec: {
        replicas: 0,
        selector: {
          ...selector,
          matchLabels: { ...(selector.matchLabels ?? {}), [POD_TEMPLATE_HASH]: hash },
        } as unknown as JsonValue,
        template: tmpl,
      },
    });
    this.#changed = true;
    owned.push(rs);
    return rs;
  }

  /** What `kubectl rollout status` reads: the controller observed the generation, pods updated and available. */
  #deploymentStatus(d: Obj): void {
    const template = spec(d).template ?? {};
    const pods = this.#store.list('Pod', nsOf(d)).filter((p) => !terminating(p));
    let replicas = 0;
    let updated = 0;
    let ready = 0;
    for (const rs of this.#store.list('ReplicaSet', nsOf(d)).filter((x) => ownedBy(x, d))) {
      const mine = pods.filter((p) => ownedBy(p, rs));
      replicas += mine.length;
      ready += mine.filter(running).length;
      if (deepEqual(withoutHash(spec(rs).template), template)) updated += mine.length;
    }
    const next = clone(d);
    next.status = {
      ...(isObject(d.status) ? d.status : {}),
      observedGeneration: Number(meta(d).generation ?? 1),
      replicas,
      updatedReplicas: updated,
      readyReplicas: ready,
      availableReplicas: ready,
      unavailableReplicas: Math.max(0, replicasOf(d) - ready),
    };
    this.#update(d, next);
  }

  // ---- ReplicaSet: adopt, release, then scale to replicas ----

  #replicaSet(rs: Obj): void {
    const selector = spec(rs).selector;
    const pods = this.#store.list('Pod', nsOf(rs)).filter((p) => !terminating(p));
    const owned: Obj[] = [];
    for (const pod of pods) {
      const ref = controllerRef(pod);
      const matches = selectorMatches(selector, labelsOf(pod));
      if (ref?.uid === uidOf(rs)) {
        if (matches) owned.push(pod);
        else this.#release(pod, rs);
      } else if (!ref && matches) {
        this.#adopt(pod, rs);
        owned.push(pod);
      }
    }
    const diff = owned.length - replicasOf(rs);
    for (let i = 0; i < -diff; i++) this.#createPod(rs, `${nameOf(rs)}-${this.#suffix(nsOf(rs))}`);
    if (diff > 0) for (const pod of deletionOrder(owned).slice(0, diff)) this.#deletePod(pod);
    const now = this.#store.list('Pod', nsOf(rs)).filter((p) => !terminating(p) && ownedBy(p, rs));
    const next = clone(rs);
    next.status = {
      replicas: now.length,
      fullyLabeledReplicas: now.length,
      readyReplicas: now.filter(running).length,
      availableReplicas: now.filter(running).length,
      observedGeneration: Number(meta(rs).generation ?? 1),
    };
    this.#update(rs, next);
  }

  /** Add the controller's ownerReference to an orphan that matches (ControllerRefManager.AdoptPod). */
  #adopt(pod: Obj, owner: Obj): void {
    const next = clone(pod);
    const refs = Array.isArray(meta(next).ownerReferences) ? (meta(next).ownerReferences as Obj[]) : [];
    meta(next).ownerReferences = [...refs, ownerRefTo(owner)];
    this.#update(pod, next);
  }

  /** Drop the controller's ownerReference from a pod that no longer matches (ControllerRefManager.ReleasePod). */
  #release(pod: Obj, owner: Obj): void {
    const next = clone(pod);
    const refs = (meta(next).ownerReferences as Obj[]).filter((r) => r.uid !== uidOf(owner));
    if (refs.length > 0) meta(next).ownerReferences = refs;
    else delete meta(next).ownerReferences;
    this.#update(pod, next);
  }

  #createPod(owner: Obj, name: string, extraLabels: Labels = {}): void {
    const template = (spec(owner).template ?? {}) as Obj;
    const tmeta = isObject(template.metadata) ? template.metadata : {};
    this.#podIp += 1;
    this.#store.create({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        namespace: nsOf(owner),
        name,
        generateName: `${nameOf(owner)}-`,
        labels: { ...((tmeta.labels as Labels | undefined) ?? {}), ...extraLabels },
        ...(isObject(tmeta.annotations) ? { annotations: clone(tmeta.annotations) } : {}),
        ownerReferences: [ownerRefTo(owner)],
      },
      spec: clone((template.spec ?? { containers: [{ name: 'app', image: 'app' }] }) as Obj),
      status: {
        phase: 'Running',
        podIP: `10.244.${Math.floor(this.#podIp / 250)}.${(this.#podIp % 250) + 2}`,
        conditions: [{ type: 'Ready', status: 'True' }],
      },
    });
    this.#changed = true;
  }

  #deletePod(pod: Obj): void {
    this.#store.remove('Pod', nsOf(pod), nameOf(pod));
    this.#changed = true;
  }

  /** A fresh `<rs>-xxxxx` suffix, deterministic (a counter through the safe alphabet), never reused. */
  #suffix(namespace: string): string {
    const taken = new Set(this.#store.list('Pod', namespace).map(nameOf));
    for (;;) {
      const n = this.#names++;
      let s = '';
      let v = n * 7919 + 104729; // spread consecutive suffixes out, like random ones
      for (let i = 0; i < 5; i++) {
        s += SAFE[v % SAFE.length];
        v = Math.floor(v / SAFE.length);
      }
      if (![...taken].some((t) => t.endsWith(`-${s}`))) return s;
    }
  }

  // ---- StatefulSet: pods <sts>-0 … <sts>-(n-1); a name held by another pod blocks its ordinal ----

  #statefulSet(sts: Obj): void {
    const selector = spec(sts).selector;
    const revision = `${nameOf(sts)}-${shortHash(spec(sts).template ?? {}, 0)}`;
    const ordinal = (p: Obj) => {
      const m = new RegExp(`^${nameOf(sts).replace(/[.]/g, '\\.')}-(\\d+)$`).exec(nameOf(p));
      return m ? Number(m[1]) : -1;
    };
    const owned = new Map<number, Obj>();
    for (const pod of this.#store.list('Pod', nsOf(sts)).filter((p) => !terminating(p))) {
      const ref = controllerRef(pod);
      const matches = selectorMatches(selector, labelsOf(pod));
      if (ref?.uid === uidOf(sts)) {
        if (matches && ordinal(pod) >= 0) owned.set(ordinal(pod), pod);
        else this.#release(pod, sts);
      } else if (!ref && matches && ordinal(pod) >= 0) {
        this.#adopt(pod, sts); // only pods named as its members (isMemberOf)
        owned.set(ordinal(pod), pod);
      }
    }
    const names = new Set(this.#store.list('Pod', nsOf(sts)).map(nameOf));
    const want = replicasOf(sts);
    for (const [n, pod] of owned) {
      const outdated = labelsOf(pod)[STS_REVISION] !== revision;
      if (n >= want || outdated) {
        this.#deletePod(pod);
        owned.delete(n);
        names.delete(nameOf(pod));
      }
    }
    for (let n = 0; n < want; n++) {
      const name = `${nameOf(sts)}-${n}`;
      // A pod of that name the StatefulSet does not own (released, say) blocks the ordinal: the real
      // controller fails to create it and retries until the name is free.
      if (owned.has(n) || names.has(name)) continue;
      this.#createPod(sts, name, {
        [STS_REVISION]: revision,
        'statefulset.kubernetes.io/pod-name': name,
        'apps.kubernetes.io/pod-index': String(n),
      });
    }
    const now = this.#store.list('Pod', nsOf(sts)).filter((p) => !terminating(p) && ownedBy(p, sts));
    const next = clone(sts);
    next.status = {
      observedGeneration: Number(meta(sts).generation ?? 1),
      replicas: now.length,
      readyReplicas: now.filter(running).length,
      availableReplicas: now.filter(running).length,
      currentReplicas: now.length,
      updatedReplicas: now.length,
      currentRevision: revision,
      updateRevision: revision,
    };
    this.#update(sts, next);
  }
}

/** The template a ReplicaSet was made from: its own, minus the pod-template-hash label the Deployment added. */
function withoutHash(template: JsonValue | undefined): JsonValue {
  const t = clone((template ?? {}) as Obj);
  if (isObject(t.metadata) && isObject(t.metadata.labels)) {
    delete t.metadata.labels[POD_TEMPLATE_HASH];
  }
  return t;
}

/** Which pods a ReplicaSet scales down first (controller.ActivePods): not running, then the newest. */
function deletionOrder(pods: Obj[]): Obj[] {
  const created = (p: Obj) => `${String(meta(p).creationTimestamp ?? '')}|${uidOf(p)}`;
  return [...pods].sort((a, b) => {
    if (running(a) !== running(b)) return running(a) ? 1 : -1;
    return created(a) < created(b) ? 1 : created(a) > created(b) ? -1 : 0;
  });
}
