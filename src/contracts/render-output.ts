import { stringify } from 'yaml';
import type { ContractRender, RenderedObject } from './render.js';

// Rendered objects as text: byte-identical for the same input. Keys are sorted at every depth
// (so the order objects were built in never shows), no line wrapping, one file per contract.

export type OutputFormat = 'yaml' | 'json';

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    return Object.fromEntries(
      Object.keys(record)
        .sort()
        .map((key) => [key, sortKeys(record[key])]),
    );
  }
  return value;
}

function header(r: ContractRender): string {
  return [
    `# Rendered by egress-responder from the egress contract ${r.file} (sha256 ${r.sha256}).`,
    '# Do not edit: change the contract and render again (`egress-responder attest` reports any difference).',
    ...r.warnings.map((w) => `# warning: ${w}`),
  ].join('\n');
}

/** Multi-document YAML (`---` between objects), or a JSON `kind: List`. */
export function formatObjects(objects: readonly RenderedObject[], format: OutputFormat): string {
  if (format === 'json') {
    return `${JSON.stringify(sortKeys({ apiVersion: 'v1', kind: 'List', items: objects }), null, 2)}\n`;
  }
  return objects.map((o) => stringify(sortKeys(o), { lineWidth: 0 })).join('---\n');
}

/** One contract's file: the YAML form starts with where it came from and its warnings. */
export function formatRender(r: ContractRender, format: OutputFormat): string {
  const body = formatObjects(r.objects, format);
  return format === 'json' ? body : `${header(r)}\n${body}`;
}

/** `prod.payments-api.yaml`: namespace and service are Kubernetes/contract names, never a path. */
export function fileNameOf(r: ContractRender, format: OutputFormat): string {
  return `${r.namespace ?? 'any'}.${r.service}.${format}`;
}
