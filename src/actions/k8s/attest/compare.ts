import type { ContractRender, RenderedObject } from '../../../contracts/render.js';
import { API, CONTRACT_ANNOTATIONS, CONTRACT_LABEL } from '../../../contracts/render-options.js';
import { canonicalJson } from '../../../domain/canonical.js';
import type { KubeObject } from '../../../k8s/types.js';
import { readNetworkPolicy } from '../contain/kube-read.js';
import type { NetworkPolicy, PodInfo } from '../netpol.js';
import { compareEgress } from './egress.js';
import type { ContractAttestation, ExtraObject, ObjectCheck } from './schema.js';

// A contract's rendered objects against what the cluster holds (pure). Each rendered object is
// found by name and checked twice: its contract-sha256 annotation (rendered from this version of the
// contract?) and its spec (does it still say what the contract says?). Objects the cluster holds for
// the contract that it no longer renders are extra; and the egress the live NetworkPolicies allow
// the service's pods is compared with what the contract's policy allows.

/** What the cluster holds, read once; `undefined` lists are kinds the cluster does not serve. */
export interface LiveObjects {
  networkPolicies: readonly KubeObject[];
  authorizationPolicies: readonly KubeObject[] | undefined;
  ciliumPolicies: readonly KubeObject[] | undefined;
  /** The service's pods (empty when none run: the contract's own selector stands in). */
  pods: readonly PodInfo[];
}

const key = (o: { kind: string; metadata: { namespace?: string; name?: string } }) =>
  `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name ?? ''}`;

/** Null members are absent to the API server (see kube-schema.ts); the spec is compared without them. */
function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNulls);
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(
      Object.entries(value)
        .filter(([, v]) => v !== null)
        .map(([k, v]) => [k, withoutNulls(v)]),
    );
  return value;
}

function liveOf(kind: string, live: LiveObjects): readonly KubeObject[] | undefined {
  if (kind === API.networkPolicy.kind) return live.networkPolicies;
  if (kind === API.authorization.kind) return live.authorizationPolicies;
  return live.ciliumPolicies;
}

function checkObject(want: RenderedObject, live: LiveObjects): ObjectCheck {
  const where = { kind: want.kind, namespace: want.metadata.namespace, name: want.metadata.name };
  const list = liveOf(want.kind, live);
  if (list === undefined)
    return {
      ...where,
      status: 'not-served',
      details: [`the cluster does not serve ${want.apiVersion} ${want.kind}: nothing enforces it`],
    };
  const have = list.find((o) => key(o) === key(want));
  if (have === undefined) return { ...where, status: 'missing', details: ['not in the cluster'] };
  const details: string[] = [];
  const sha = have.metadata.annotations?.[CONTRACT_ANNOTATIONS.sha256];
  const wantSha = want.metadata.annotations[CONTRACT_ANNOTATIONS.sha256];
  if (sha !== wantSha)
    details.push(
      sha === undefined
        ? 'carries no contract-sha256 annotation: not rendered from this contract'
        : `rendered from another version of the contract (sha256 ${sha.slice(0, 12)}…, the contract is now ${wantSha?.slice(0, 12)}…)`,
    );
  if (canonicalJson(withoutNulls(have.spec)) !== canonicalJson(want.spec))
    details.push('its spec differs from what the contract renders');
  return { ...where, status: details.length > 0 ? 'changed' : 'match', details };
}

/** Live objects labelled for this contract that the contract no longer renders. */
function extraObjects(r: ContractRender, live: LiveObjects): ExtraObject[] {
  const rendered = new Set(r.objects.map(key));
  const all = [
    ...live.networkPolicies,
    ...(live.authorizationPolicies ?? []),
    ...(live.ciliumPolicies ?? []),
  ];
  return all
    .filter((o) => o.metadata.labels?.[CONTRACT_LABEL] === r.service && !rendered.has(key(o)))
    .map((o) => ({
      kind: o.kind,
      namespace: o.metadata.namespace ?? '',
      name: o.metadata.name ?? '',
      why: `labelled ${CONTRACT_LABEL}=${r.service} but the contract does not render it`,
    }));
}

/** The namespace's NetworkPolicies as the analysis reads them; one it cannot read stops it with a sentence. */
function networkPolicies(objects: readonly KubeObject[], namespace: string): NetworkPolicy[] {
  return objects
    .filter((o) => o.metadata.namespace === namespace)
    .map((o) => readNetworkPolicy(o, namespace));
}

export function attestContract(r: ContractRender, live: LiveObjects, appLabel: string): ContractAttestation {
  const namespace = r.namespace ?? '';
  const objects = r.objects.map((o) => checkObject(o, live));
  const extra = extraObjects(r, live);
  const pods: PodInfo[] =
    live.pods.length > 0
      ? [...live.pods]
      : [{ name: `(pods with ${appLabel}=${r.service})`, namespace, labels: { [appLabel]: r.service } }];
  const rendered = networkPolicies(
    r.objects.filter((o) => o.kind === API.networkPolicy.kind) as unknown as KubeObject[],
    namespace,
  );
  const egress = compareEgress(pods, networkPolicies(live.networkPolicies, namespace), rendered);
  const clean =
    objects.every((o) => o.status === 'match') &&
    extra.length === 0 &&
    egress.beyond.length === 0 &&
    egress.notEnforced.length === 0;
  return {
    service: r.service,
    namespace,
    file: r.file,
    sha256: r.sha256,
    status: clean ? 'clean' : 'drift',
    objects,
    extra,
    egress,
    warnings: r.warnings,
  };
}
