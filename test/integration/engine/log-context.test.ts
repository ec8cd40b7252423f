// Every log line written while a step or action runs names its incident, step and action, wherever
// in the code it is logged (here: a root logger reached by closure, as the Kubernetes client's retry
// log is, and the action's own logger), through the real pino logger writing JSON to a stream.
import { Writable } from 'node:stream';
import { createLogger } from '../../../src/observability/logger.js';
import { oneStepPlaybook, sideAction, testEngine } from '../../builders/engine.js';

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  return { lines, log: createLogger({ level: 'debug', destination: stream }) };
}

it('lines logged during a step and its action carry incident, step, action and phase; lines outside do not', async () => {
  const { lines, log } = capture();
  const noisy = sideAction(
    'test.noisy',
    (ctx) => {
      log.warn('deep: a request was retried'); // the root logger, no bindings of its own
      ctx.log.info('the action says hello'); // the action's child logger
    },
    'logs from deep inside',
  );
  const t = testEngine({ yaml: oneStepPlaybook('loud', 'test.noisy'), actions: [noisy], deps: { log } });
  log.info('before any incident');
  const { id } = await t.open();
  await t.engine.advance(id);
  log.info('after the run');

  const parsed = lines.map((l) => ({ raw: l, json: JSON.parse(l) as Record<string, unknown> }));
  const byMsg = (m: string) => parsed.find((p) => p.json.msg === m);
  const deep = byMsg('deep: a request was retried');
  expect(deep?.json).toMatchObject({ incident: id, step: 'loud', action: 'test.noisy', phase: 'apply' });
  const own = byMsg('the action says hello');
  expect(own?.json).toMatchObject({ incident: id, step: 'loud', action: 'test.noisy', phase: 'apply' });
  // A field the child logger binds is not written twice.
  expect(own?.raw.match(/"incident":/g)).toHaveLength(1);
  expect(byMsg('before any incident')?.json).not.toHaveProperty('incident');
  expect(byMsg('after the run')?.json).not.toHaveProperty('incident');
  expect(byMsg('after the run')?.json).not.toHaveProperty('step');
});
