// netpol: analyzeEgress (is egress really blocked?) on one namespace with 200 pods and 100
// NetworkPolicies of the kinds a real namespace holds, and the verification line made from it.
import { analyzeEgress, verificationLine } from '../dist/actions/k8s/netpol.js';
import { measure, report } from './harness.js';

const NAMESPACE = 'prod';
const APPS = 20;

/** `pods` pods over APPS apps (replicas of each). */
function makePods(pods) {
  return Array.from({ length: pods }, (_, i) => {
    const app = i % APPS;
    return {
      name: `app-${app}-7d9f8b6c5d-${i.toString(36).padStart(5, 'x')}`,
      namespace: NAMESPACE,
      labels: {
        app: `app-${app}`,
        tier: app % 3 === 0 ? 'frontend' : 'backend',
        team: `team-${app % 5}`,
        'pod-template-hash': '7d9f8b6c5d',
        ...(app % 4 === 0 ? { pci: 'true' } : {}),
      },
    };
  });
}

const meta = (name) => ({
  name,
  namespace: NAMESPACE,
  labels: { 'app.kubernetes.io/managed-by': 'kustomize' },
});

/** `count` policies: deny-all, DNS, per-app egress allow-lists, ingress-only ones, team rules, CIDR rules. */
function makePolicies(count) {
  const out = [
    { metadata: meta('default-deny-egress'), spec: { podSelector: {}, policyTypes: ['Egress'] } },
    {
      metadata: meta('allow-dns'),
      spec: {
        podSelector: {},
        policyTypes: ['Egress'],
        egress: [
          {
            to: [
              {
                namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } },
                podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
              },
            ],
            ports: [
              { protocol: 'UDP', port: 53 },
              { protocol: 'TCP', port: 53 },
            ],
          },
        ],
      },
    },
  ];
  for (let k = 0; out.length < count; k++) {
    const app = k % APPS;
    switch (Math.floor(k / APPS) % 5) {
      case 0: // per-app egress allow-list
        out.push({
          metadata: meta(`app-${app}-egress`),
          spec: {
            podSelector: { matchLabels: { app: `app-${app}` } },
            policyTypes: ['Egress'],
            egress: [
              {
                to: [{ podSelector: { matchLabels: { app: `app-${(app + 1) % APPS}` } } }],
                ports: [{ port: 8080 }],
              },
              { to: [{ ipBlock: { cidr: '10.0.0.0/8', except: ['10.96.0.0/12'] } }], ports: [{ port: 443 }] },
            ],
          },
        });
        break;
      case 1: // ingress only: not an egress policy
        out.push({
          metadata: meta(`app-${app}-ingress`),
          spec: {
            podSelector: { matchLabels: { app: `app-${app}` } },
            policyTypes: ['Ingress'],
            ingress: [{ from: [{ podSelector: { matchLabels: { tier: 'frontend' } } }] }],
          },
        });
        break;
      case 2: // team rules with expressions
        out.push({
          metadata: meta(`team-rule-${k}`),
          spec: {
            podSelector: {
              matchExpressions: [
                { key: 'team', operator: 'In', values: [`team-${app % 5}`] },
                { key: 'tier', operator: 'NotIn', values: ['frontend'] },
              ],
            },
            policyTypes: ['Egress'],
            egress: [
              {
                to: [{ namespaceSelector: { matchLabels: { team: `team-${app % 5}` } } }],
                ports: [{ protocol: 'TCP', port: 443 }],
              },
            ],
          },
        });
        break;
      case 3: // external CIDRs with a port range, PCI pods only
        out.push({
          metadata: meta(`pci-external-${k}`),
          spec: {
            podSelector: { matchLabels: { pci: 'true', app: `app-${app}` } },
            policyTypes: ['Egress'],
            egress: [
              {
                to: [
                  { ipBlock: { cidr: `198.51.${k % 256}.0/24` } },
                  { ipBlock: { cidr: '203.0.113.0/24' } },
                ],
                ports: [{ protocol: 'TCP', port: 8000, endPort: 8080 }],
              },
            ],
          },
        });
        break;
      default: // left behind: selects no pod
        out.push({
          metadata: meta(`retired-${k}`),
          spec: {
            podSelector: { matchLabels: { app: `retired-${k}` } },
            policyTypes: ['Egress'],
            egress: [{}],
          },
        });
    }
  }
  return out;
}

const namespaceLabels = {
  prod: { 'kubernetes.io/metadata.name': 'prod', team: 'team-0' },
  'kube-system': { 'kubernetes.io/metadata.name': 'kube-system' },
};

export async function run() {
  const cases = [];
  const shapes = [
    { pods: 200, policies: 100, warmup: 200, iterations: 2000 },
    { pods: 1000, policies: 500, warmup: 5, iterations: 60, note: 'five times both: how it scales' },
  ];
  let described;
  for (const shape of shapes) {
    const pods = makePods(shape.pods);
    const policies = makePolicies(shape.policies);
    const analysis = analyzeEgress(pods, policies, { namespaceLabels });
    const line = verificationLine(analysis);
    described ??= {
      verdict: analysis.verdict,
      leaks: analysis.leaks.length,
      isolatedBy: analysis.isolatedBy.length,
      lineChars: line.length,
    };
    const r = await measure({
      warmup: shape.warmup,
      iterations: shape.iterations,
      maxMs: 5000,
      fn: () => analyzeEgress(pods, policies, { namespaceLabels }),
    });
    cases.push({
      case: `analyzeEgress ${shape.pods} pods × ${shape.policies} policies`,
      unit: 'analyses/s',
      ...r,
      note: `${analysis.verdict}, ${analysis.leaks.length} leaks, ${analysis.isolatedBy.length} isolating policies, ${((r.callsPerSec * shape.pods) / 1000).toFixed(0)}k pods/s${shape.note ? `; ${shape.note}` : ''}`,
    });
    if (shape.pods === 200) {
      cases.push({
        case: `verificationLine (${shape.pods} pods)`,
        unit: 'lines/s',
        ...(await measure({
          warmup: 1000,
          iterations: 50_000,
          maxMs: 3000,
          fn: () => verificationLine(analysis),
        })),
      });
    }
  }
  return report(
    'netpol',
    {
      function: 'analyzeEgress(pods, policies, { namespaceLabels })',
      namespace: `${NAMESPACE}, ${APPS} apps`,
      policies:
        'default-deny-egress, allow-dns, then in turn: per-app egress allow-lists, ingress-only, team rules (matchExpressions), PCI CIDR rules with port ranges, retired (select nothing)',
      result200: described,
    },
    cases,
  );
}
