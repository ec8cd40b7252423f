import type { Dirent } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { EgressContract, type LoadedContract } from '../domain/contract.js';
import { asCodedError, CodedError } from '../domain/errors.js';
import { readYaml, validateYaml } from '../domain/yaml.js';

// Load egress contracts: one YAML file per service. A bad file is reported precisely (file, field
// path, value, what was expected; line:column for YAML syntax) and never stops the others loading.

export interface ContractSet {
  contracts: LoadedContract[];
  errors: CodedError[];
}

const CONTRACT_FILE = /\.ya?ml$/i;

/**
 * Parse and validate one contract file's text. `file` is only used in messages and in the result.
 * Throws CodedError('contract_invalid') naming the file, with one issue per problem.
 */
export function parseContract(text: string, file: string): LoadedContract {
  const src = readYaml(text, file, 'contract_invalid');
  if (src.data === null || src.data === undefined) {
    throw new CodedError(
      'contract_invalid',
      `${file}: the file is empty; an egress contract needs at least a service`,
      {
        details: { file },
      },
    );
  }
  const contract = validateYaml(src, EgressContract, 'contract_invalid', (n) =>
    n === 1 ? 'invalid egress contract (1 problem)' : `invalid egress contract (${n} problems)`,
  );
  return { file, contract };
}

function byName(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

async function isFile(dir: string, entry: Dirent): Promise<boolean> {
  if (entry.isFile()) return true;
  if (!entry.isSymbolicLink()) return false;
  try {
    return (await stat(join(dir, entry.name))).isFile();
  } catch {
    return true; // a dangling link: let the read report it
  }
}

/** A short reason for a file-system failure: `permission denied (EACCES)`. */
function fsReason(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') return 'it does not exist (ENOENT)';
  if (code === 'EACCES' || code === 'EPERM') return `permission denied (${code})`;
  return code ?? asCodedError(err).message;
}

function directoryError(dir: string, err: unknown): CodedError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const message =
    code === 'ENOENT'
      ? `Contract directory ${dir} does not exist.`
      : code === 'ENOTDIR'
        ? `Contract directory ${dir} is not a directory.`
        : `Cannot read contract directory ${dir}: ${fsReason(err)}.`;
  return new CodedError('contract_invalid', message, { details: { dir }, cause: err });
}

/**
 * Load every `.yaml`/`.yml` file directly in `dir` (not recursive; hidden files skipped), in name
 * order. Never throws for bad input: each bad file, a second contract for the same service and
 * namespace, or a missing directory is one CodedError in `errors`; the good files still load.
 */
export async function loadContracts(dir: string): Promise<ContractSet> {
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    return { contracts: [], errors: [directoryError(dir, err)] };
  }

  const names: string[] = [];
  for (const entry of entries) {
    if (entry.name.startsWith('.') || !CONTRACT_FILE.test(entry.name)) continue;
    if (await isFile(dir, entry)) names.push(entry.name);
  }
  names.sort(byName);

  const contracts: LoadedContract[] = [];
  const errors: CodedError[] = [];
  const seen = new Map<string, LoadedContract>();
  for (const name of names) {
    const file = join(dir, name);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      errors.push(
        new CodedError('contract_invalid', `${file}: cannot read the file: ${fsReason(err)}`, {
          details: { file },
          cause: err,
        }),
      );
      continue;
    }

    let loaded: LoadedContract;
    try {
      loaded = parseContract(text, file);
    } catch (err) {
      errors.push(asCodedError(err));
      continue;
    }

    const { service, namespace } = loaded.contract;
    const key = `${service}\u0000${namespace ?? ''}`;
    const first = seen.get(key);
    if (first) {
      const where = namespace === undefined ? 'for any namespace' : `in namespace ${namespace}`;
      errors.push(
        new CodedError(
          'contract_invalid',
          `${file}: duplicate egress contract for service ${service} ${where}: ${first.file} already defines it, so this file was ignored.`,
          {
            details: {
              file,
              duplicateOf: first.file,
              service,
              ...(namespace === undefined ? {} : { namespace }),
            },
          },
        ),
      );
      continue;
    }
    seen.set(key, loaded);
    contracts.push(loaded);
  }
  return { contracts, errors };
}
