import { type RedisSentinelSet, startRedisSentinel } from '../../support/redis-topologies.js';
import { describeContractsOn } from './topology-suites.js';

// The store contract through Redis Sentinel (a master, a replica, three Sentinels): the store finds
// the master by asking the Sentinels and passes what the single server passes.

let sentinel: RedisSentinelSet;
beforeAll(async () => {
  sentinel = await startRedisSentinel();
}, 60_000);
afterAll(async () => {
  await sentinel?.stop();
});

describeContractsOn('redis-sentinel', () => sentinel.url);
