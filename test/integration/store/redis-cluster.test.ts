import { type RedisClusterSet, startRedisCluster } from '../../support/redis-topologies.js';
import { describeContractsOn } from './topology-suites.js';

// The store contract on a real Redis Cluster (three masters, each with a replica): every script and
// multi-key command must stay in one slot, or Redis answers CROSSSLOT and these fail.

let cluster: RedisClusterSet;
beforeAll(async () => {
  cluster = await startRedisCluster();
}, 60_000);
afterAll(async () => {
  await cluster?.stop();
});

describeContractsOn('redis-cluster', () => cluster.url);
