import { loadConfig } from '../config/load.js';
import { CodedError } from '../domain/errors.js';
import { exportTimeline, type TimelineFormat } from '../timeline/export.js';
import type { Io } from './io.js';
import { withSharedStore } from './shared-store.js';

/** Print an incident's timeline from the Redis store that `serve` uses. */
export async function timelineCommand(
  args: { incident: string; format: TimelineFormat; config?: string },
  io: Io,
): Promise<number> {
  const config = await loadConfig(io.env, args.config);
  return withSharedStore(config, 'Incidents and their timelines', async (store) => {
    const incident = await store.incidents.get(args.incident);
    if (!incident) throw new CodedError('incident_not_found', `no incident ${args.incident} in the store`);
    const events = await store.timeline.read(incident.id);
    io.out(exportTimeline(args.format, incident, events).trimEnd());
    return 0;
  });
}
