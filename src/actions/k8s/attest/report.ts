import type { ContractAttestation, ObjectCheck } from './schema.js';

// An attestation in words: one line per contract for the incident thread, and the full report a
// reviewer keeps as evidence (what was compared, with what, when, and every difference).

const LINE_ITEMS = 3;

function listed(items: readonly string[]): string {
  const shown = items.slice(0, LINE_ITEMS).join('; ');
  return items.length > LINE_ITEMS ? `${shown}; and ${items.length - LINE_ITEMS} more` : shown;
}

const objectName = (o: Pick<ObjectCheck, 'kind' | 'namespace' | 'name'>) =>
  `${o.kind} ${o.namespace}/${o.name}`;

/** `payments-api in prod matches its contract …` or `… drifts from its contract: …` */
export function attestationLine(a: ContractAttestation): string {
  const who = `${a.service} in ${a.namespace}`;
  if (a.status === 'clean')
    return `${who} matches its contract (${a.file}, sha256 ${a.sha256.slice(0, 12)}…): ${a.objects.length} object(s) as rendered, no egress beyond it`;
  const parts: string[] = [];
  if (a.egress.beyond.length > 0)
    parts.push(`the cluster allows beyond the contract: ${listed(a.egress.beyond)}`);
  const off = a.objects.filter((o) => o.status !== 'match');
  if (off.length > 0) parts.push(`${listed(off.map((o) => `${o.status} ${objectName(o)}`))}`);
  if (a.extra.length > 0) parts.push(`extra ${listed(a.extra.map(objectName))}`);
  if (a.egress.notEnforced.length > 0)
    parts.push(`allowed by the contract but not by the cluster: ${listed(a.egress.notEnforced)}`);
  return `${who} drifts from its contract (${a.file}): ${parts.join('; ')}`;
}

export interface ReportContext {
  cluster: string;
  at: string;
  contracts: string;
  options: string;
  skipped: readonly string[];
}

export function attestationReport(results: readonly ContractAttestation[], ctx: ReportContext): string {
  const drifting = results.filter((r) => r.status === 'drift').length;
  const out = [
    '# Egress contract attestation',
    '',
    `- cluster: ${ctx.cluster}`,
    `- at: ${ctx.at}`,
    `- contracts: ${ctx.contracts} (${results.length} attested; rendered with ${ctx.options})`,
    `- result: ${drifting === 0 ? 'CLEAN — the cluster enforces what every contract renders' : `DRIFT — ${drifting} of ${results.length} contract(s) differ from the cluster`}`,
    ...ctx.skipped.map((s) => `- not attested: ${s}`),
  ];
  for (const r of results) {
    out.push('', `## ${r.namespace}/${r.service} — ${r.status.toUpperCase()}`, '');
    out.push(`contract ${r.file}, sha256 ${r.sha256}`);
    for (const o of r.objects)
      out.push(
        `- ${o.status.padEnd(10)} ${objectName(o)}${o.details.length > 0 && o.status !== 'match' ? `: ${o.details.join('; ')}` : ''}`,
      );
    for (const e of r.extra) out.push(`- ${'extra'.padEnd(10)} ${objectName(e)}: ${e.why}`);
    out.push(`- egress of ${r.egress.pods.join(', ')}:`);
    out.push(
      r.egress.beyond.length === 0
        ? '  - the cluster allows nothing beyond the contract'
        : `  - allowed by the cluster beyond the contract: ${r.egress.beyond.join('; ')}`,
    );
    if (r.egress.notEnforced.length > 0)
      out.push(`  - allowed by the contract, not by the cluster: ${r.egress.notEnforced.join('; ')}`);
    for (const w of r.warnings) out.push(`- warning: ${w}`);
  }
  return out.join('\n');
}
