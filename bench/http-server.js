// The server side of the http benchmark, in its own worker thread so the fetch clients do not share
// its event loop: createHttpServer wired like test/integration/server/alerts-endpoint.test.ts (memory
// store, shipped playbooks and contracts, no Slack, no cluster), listening on 127.0.0.1 only.
import { parentPort, workerData } from 'node:worker_threads';
import { systemClock } from '../dist/observability/clock.js';
import { silentLogger } from '../dist/observability/logger.js';
import { createMetrics } from '../dist/observability/metrics.js';
import { createHttpServer } from '../dist/server/http.js';
import { coreOver, loadParts, memoryStore } from './engine-setup.js';

const parts = await loadParts();
const store = memoryStore();
const { recorder } = coreOver(parts, store, `http-${process.pid}`);
const server = createHttpServer({
  alerts: {
    recorder,
    token: workerData.token,
    parse: {},
    log: silentLogger(),
    storeTimeoutMs: 2000,
    now: () => Date.now(),
  },
  store,
  clock: systemClock,
  log: silentLogger(),
  metrics: createMetrics(),
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));

parentPort.on('message', async (m) => {
  if (m === 'stats') {
    const open = await store.incidents.list({ activeOnly: true });
    parentPort.postMessage({
      stats: { incidents: open.length, alerts: open.reduce((sum, i) => sum + i.count, 0) },
    });
  } else if (m === 'close') {
    server.closeAllConnections();
    server.close(() => parentPort.close());
  }
});
parentPort.postMessage({ port: server.address().port });
