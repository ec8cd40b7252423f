import { createHash } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';

// @kubernetes/client-node 1.4 builds a new http(s).Agent for every request it authenticates
// (KubeConfig.applySecurityAuthentication → createAgent), without keep-alive: every request opened
// its own TCP connection and, against a real API server, paid its own TLS handshake. A containment of
// 50 pods is about 60 requests. So the agent it makes is swapped for a keep-alive one made once per
// set of connection options (CA, client certificate and key, TLS checks, server name); options that
// change (a client certificate rotated on disk) get their own. Proxy agents are left as made. Idle
// kept sockets do not hold the process open (Node unrefs them), and a socket the server closed while
// idle is a network error kube-requests retries.

/** The options that decide what a connection is and who it authenticates as. */
const IDENTITY = ['ca', 'cert', 'key', 'pfx', 'passphrase', 'rejectUnauthorized', 'servername'] as const;

/** Beyond this many distinct option sets, the oldest agent is closed (a rotating cert, not a leak). */
const MAX_AGENTS = 4;

type AgentOptions = http.AgentOptions & Record<string, unknown>;

function identityOf(kind: string, options: AgentOptions): string {
  const h = createHash('sha256').update(kind);
  for (const k of IDENTITY) {
    const v = options[k];
    const values = Array.isArray(v) ? v : [v];
    h.update(`\n${k}:`);
    for (const x of values) {
      if (Buffer.isBuffer(x)) h.update(x);
      else h.update(String(x));
      h.update('\0');
    }
  }
  return h.digest('hex');
}

export class KeptAgents {
  readonly #agents = new Map<string, http.Agent>();

  /** The keep-alive agent for the connection `made` describes; `made` itself for any other agent. */
  keep<A>(made: A): A | http.Agent {
    if (!(made instanceof http.Agent)) return made;
    const Kind = made.constructor;
    if (Kind !== http.Agent && Kind !== https.Agent) return made;
    const options = (made as unknown as { options: AgentOptions }).options;
    const id = identityOf(Kind === https.Agent ? 'https' : 'http', options);
    let kept = this.#agents.get(id);
    if (!kept) {
      const { keepAlive: _, ...rest } = options;
      kept =
        Kind === https.Agent
          ? new https.Agent({ ...rest, keepAlive: true })
          : new http.Agent({ ...rest, keepAlive: true });
      this.#agents.set(id, kept);
      if (this.#agents.size > MAX_AGENTS) {
        const [oldest, agent] = this.#agents.entries().next().value as [string, http.Agent];
        this.#agents.delete(oldest);
        agent.destroy();
      }
    }
    made.destroy(); // never used: nothing to keep open
    return kept;
  }
}
