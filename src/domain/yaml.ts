import { parseDocument } from 'yaml';
import { CodedError, type ErrorCode } from './errors.js';

/**
 * Parse one YAML document into plain data. Syntax errors become a CodedError naming the file, line
 * and column. Aliases are capped so a "billion laughs" file cannot blow up memory.
 */
export function parseYaml(text: string, file: string, code: ErrorCode): unknown {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new CodedError(code, `${file}: not valid YAML`, {
      issues: doc.errors.map((e) => {
        const pos = e.linePos?.[0];
        return {
          path: pos ? `line ${pos.line}, column ${pos.col}` : '',
          message: e.message.split('\n')[0] ?? e.code,
        };
      }),
    });
  }
  try {
    return doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    throw new CodedError(code, `${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
}
