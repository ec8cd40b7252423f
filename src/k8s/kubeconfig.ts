// Where the Kubernetes credentials come from. Precedence (first that applies):
//   1. an explicit kubeconfig path (config file / --kubeconfig);
//   2. inCluster: true — the pod's ServiceAccount (fails clearly when not in a pod);
//   3. $KUBECONFIG (colon-separated files are merged, like kubectl);
//   4. in-cluster when running in a pod (KUBERNETES_SERVICE_HOST set), unless inCluster: false;
//   5. ~/.kube/config.
// Unlike KubeConfig.loadFromDefault(), nothing silently falls back to http://localhost:8080.
import { accessSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { CodedError } from '../domain/errors.js';

export interface KubeConfigSource {
  kubeconfigPath?: string;
  /** true: use the pod's ServiceAccount; false: never; undefined: when KUBERNETES_SERVICE_HOST is set. */
  inCluster?: boolean;
  /** A context of the kubeconfig other than its current-context. */
  contextName?: string;
  /** Defaults to process.env. */
  env?: Record<string, string | undefined>;
  /** Where the ServiceAccount files live, prefixed to /var/run/secrets/… (tests). */
  inClusterPathPrefix?: string;
}

export interface LoadedKubeConfig {
  kc: k8s.KubeConfig;
  source: 'in-cluster' | 'kubeconfig';
  /** The kubeconfig file(s) read, when not in-cluster. */
  files: string[];
  context: string;
  /** The API server URL (no credentials). */
  server: string;
}

const SERVICE_ACCOUNT_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

function exists(path: string): boolean {
  try {
    accessSync(path);
    return true;
  } catch {
    return false;
  }
}

function unavailable(message: string, cause?: unknown): CodedError {
  return new CodedError('cluster_unavailable', message, cause === undefined ? {} : { cause });
}

function loadFiles(files: string[]): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  files.forEach((file, i) => {
    if (!exists(file)) throw unavailable(`Kubernetes config file ${file} does not exist.`);
    try {
      if (i === 0) kc.loadFromFile(file);
      else {
        const more = new k8s.KubeConfig();
        more.loadFromFile(file);
        kc.mergeConfig(more, true);
      }
    } catch (err) {
      // The library's message may quote the file; say only which file and why in general terms.
      const why = err instanceof Error ? err.message.split('\n')[0]!.slice(0, 200) : 'unreadable';
      throw unavailable(`Could not read Kubernetes config file ${file}: ${why}`, err);
    }
  });
  return kc;
}

function loadInCluster(env: Record<string, string | undefined>, prefix: string): k8s.KubeConfig {
  if (!env.KUBERNETES_SERVICE_HOST || !env.KUBERNETES_SERVICE_PORT) {
    throw unavailable(
      'In-cluster Kubernetes config requested, but KUBERNETES_SERVICE_HOST/PORT are not set: not running in a pod?',
    );
  }
  if (!exists(`${prefix}${SERVICE_ACCOUNT_TOKEN}`)) {
    throw unavailable(
      `In-cluster Kubernetes config requested, but there is no ServiceAccount token at ${prefix}${SERVICE_ACCOUNT_TOKEN} (automountServiceAccountToken: false?).`,
    );
  }
  const kc = new k8s.KubeConfig();
  // loadFromCluster reads KUBERNETES_SERVICE_HOST/PORT from process.env; the token file is re-read as it rotates.
  kc.loadFromCluster(prefix);
  return kc;
}

export function loadKubeConfig(src: KubeConfigSource = {}): LoadedKubeConfig {
  const env = src.env ?? process.env;
  const prefix = src.inClusterPathPrefix ?? '';
  let kc: k8s.KubeConfig;
  let source: LoadedKubeConfig['source'] = 'kubeconfig';
  let files: string[] = [];
  const fromEnv = (env.KUBECONFIG ?? '').split(delimiter).filter((f) => f !== '');
  const home = env.HOME ?? homedir();
  if (src.kubeconfigPath) {
    files = [src.kubeconfigPath];
    kc = loadFiles(files);
  } else if (src.inCluster === true) {
    kc = loadInCluster(env, prefix);
    source = 'in-cluster';
  } else if (fromEnv.length > 0) {
    files = fromEnv;
    kc = loadFiles(files);
  } else if (src.inCluster === undefined && env.KUBERNETES_SERVICE_HOST) {
    kc = loadInCluster(env, prefix);
    source = 'in-cluster';
  } else if (home && exists(join(home, '.kube', 'config'))) {
    files = [join(home, '.kube', 'config')];
    kc = loadFiles(files);
  } else {
    throw unavailable(
      'No Kubernetes configuration found: set KUBECONFIG or a kubeconfig path in the config file, or run in a pod with a ServiceAccount.',
    );
  }
  if (src.contextName) {
    const names = kc.getContexts().map((c) => c.name);
    if (!names.includes(src.contextName)) {
      throw unavailable(
        `Kubernetes context "${src.contextName}" not found in ${files.join(', ') || 'the in-cluster config'}; available: ${names.join(', ') || '(none)'}.`,
      );
    }
    kc.setCurrentContext(src.contextName);
  }
  const context = kc.getCurrentContext();
  const cluster = kc.getCurrentCluster();
  if (!context || !cluster) {
    throw unavailable(
      `Kubernetes config ${files.join(', ') || '(in-cluster)'} has no usable current context${context ? ` ("${context}" names no cluster)` : ''}.`,
    );
  }
  return {
    kc,
    source,
    files,
    context: source === 'in-cluster' ? 'in-cluster' : context,
    server: cluster.server,
  };
}
