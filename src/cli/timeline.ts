import { loadConfig } from '../config/load.js';
import { CodedError } from '../domain/errors.js';
import { createRedisStore } from '../store/redis.js';
import { exportTimeline, type TimelineFormat } from '../timeline/export.js';
import type { Io } from './io.js';

/** Print an incident's timeline from the Redis store that `serve` uses (REDIS_URL). */
export async function timelineCommand(
  args: { incident: string; format: TimelineFormat; config?: string },
  io: Io,
): Promise<number> {
  const config = await loadConfig(io.env, args.config);
  if (!config.env.redisUrl) {
    throw new CodedError(
      'config_invalid',
      'REDIS_URL is not set. The embedded store lives only inside a running process; point REDIS_URL at the Redis that `serve` uses.',
    );
  }
  const store = createRedisStore({ url: config.env.redisUrl.reveal() });
  try {
    const incident = await store.incidents.get(args.incident);
    if (!incident)
      throw new CodedError('incident_not_found', `no incident ${args.incident} in the store at REDIS_URL`);
    const events = await store.timeline.read(incident.id);
    io.out(exportTimeline(args.format, incident, events).trimEnd());
    return 0;
  } finally {
    await store.close();
  }
}
