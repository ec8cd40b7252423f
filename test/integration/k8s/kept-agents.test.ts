// client-node 1.4 makes a new Agent for every request; kube-requests swaps it for a keep-alive agent
// per set of connection options (k8s/kept-agents.ts). Through the real KubeCluster against the fake
// API server, counting the TCP connections it accepts.
import http from 'node:http';
import https from 'node:https';
import { KeptAgents } from '../../../src/k8s/kept-agents.js';
import { NS, seedAdditiveTrap, trapCluster } from '../../builders/additive-trap.js';
import { type FakeKubeApi, startFakeKubeApi } from '../../fakes/kube-api/index.js';

let fake: FakeKubeApi;
beforeAll(async () => {
  fake = await startFakeKubeApi();
});
afterAll(() => fake.close());
beforeEach(() => seedAdditiveTrap(fake));

it('requests one after another share one connection', async () => {
  const cluster = trapCluster(fake);
  const before = fake.connectionsOpened;
  for (let i = 0; i < 20; i++) await cluster.listPods(NS);
  expect(fake.requestsMatching({ method: 'GET', path: `/api/v1/namespaces/${NS}/pods` })).toHaveLength(20);
  expect(fake.connectionsOpened - before).toBe(1);
});

it('concurrent requests open a connection each at most, and later requests reuse them', async () => {
  const cluster = trapCluster(fake);
  const before = fake.connectionsOpened;
  await Promise.all(Array.from({ length: 5 }, () => cluster.listPods(NS)));
  const opened = fake.connectionsOpened - before;
  expect(opened).toBeGreaterThanOrEqual(1);
  expect(opened).toBeLessThanOrEqual(5);
  for (let i = 0; i < 10; i++) await cluster.listNetworkPolicies(NS);
  expect(fake.connectionsOpened - before).toBe(opened);
});

describe('KeptAgents', () => {
  const agentOf = (options: https.AgentOptions) => new https.Agent(options);

  it('one keep-alive agent per set of connection options; the agent client-node made is closed', () => {
    const kept = new KeptAgents();
    const made = agentOf({ ca: 'CA-1', rejectUnauthorized: true });
    const a = kept.keep(made);
    const b = kept.keep(agentOf({ ca: 'CA-1', rejectUnauthorized: true }));
    expect(a).toBe(b);
    expect(a).not.toBe(made);
    expect(a).toBeInstanceOf(https.Agent);
    expect((a as http.Agent & { keepAlive: boolean }).keepAlive).toBe(true);
    expect((a as unknown as { options: https.AgentOptions }).options.ca).toBe('CA-1');
  });

  it('another CA, client certificate, TLS check or scheme is another agent', () => {
    const kept = new KeptAgents();
    const base = kept.keep(agentOf({ ca: 'CA-1', cert: 'C', key: 'K' }));
    expect(kept.keep(agentOf({ ca: 'CA-2', cert: 'C', key: 'K' }))).not.toBe(base);
    expect(kept.keep(agentOf({ ca: 'CA-1', cert: 'C2', key: 'K' }))).not.toBe(base);
    expect(kept.keep(agentOf({ ca: 'CA-1', cert: 'C', key: 'K', rejectUnauthorized: false }))).not.toBe(base);
    const plain = kept.keep(new http.Agent({}));
    expect(plain).toBeInstanceOf(http.Agent);
    expect(plain).not.toBeInstanceOf(https.Agent);
    // A Buffer CA is compared by its bytes.
    const fromBuffer = kept.keep(agentOf({ ca: Buffer.from('CA-9') }));
    expect(kept.keep(agentOf({ ca: Buffer.from('CA-9') }))).toBe(fromBuffer);
  });

  it('an agent of another kind (a proxy agent) is used as made', () => {
    class ProxyAgent extends https.Agent {}
    const proxy = new ProxyAgent({});
    expect(new KeptAgents().keep(proxy)).toBe(proxy);
    expect(new KeptAgents().keep(undefined)).toBeUndefined();
  });

  it('past four option sets the oldest agent is closed and forgotten', () => {
    const kept = new KeptAgents();
    const first = kept.keep(agentOf({ ca: 'CA-0' })) as http.Agent;
    let destroyed = false;
    const destroy = first.destroy.bind(first);
    first.destroy = () => {
      destroyed = true;
      destroy();
    };
    for (let i = 1; i <= 4; i++) kept.keep(agentOf({ ca: `CA-${i}` }));
    expect(destroyed).toBe(true);
    expect(kept.keep(agentOf({ ca: 'CA-0' }))).not.toBe(first);
  });
});
