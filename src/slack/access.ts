import type { WebClient } from '@slack/web-api';
import type { Logger } from 'pino';

export interface RoleLists {
  responders: string[];
  approvers: string[];
  viewers: string[];
}

const isGroup = (id: string) => id.startsWith('S');

/**
 * Expand user-group IDs (S…) in the configured lists into their members, in place, so the access
 * policy (which reads `target` live) sees people. A group that cannot be read keeps its last known
 * members and is logged: a Slack hiccup must not lock responders out mid-incident.
 */
export async function expandUserGroups(
  client: WebClient,
  configured: RoleLists,
  target: RoleLists,
  log: Logger,
): Promise<void> {
  const cache = new Map<string, string[]>();
  const members = async (group: string): Promise<string[] | undefined> => {
    if (cache.has(group)) return cache.get(group);
    try {
      const res = await client.usergroups.users.list({ usergroup: group });
      const users = res.users ?? [];
      cache.set(group, users);
      return users;
    } catch (err) {
      log.warn({ err, usergroup: group }, 'cannot read user group members; keeping the last known list');
      return undefined;
    }
  };
  for (const role of ['responders', 'approvers', 'viewers'] as const) {
    const groups = configured[role].filter(isGroup);
    if (groups.length === 0) continue;
    const expanded = new Set(configured[role]);
    let complete = true;
    for (const g of groups) {
      const users = await members(g);
      if (users) for (const u of users) expanded.add(u);
      else complete = false;
    }
    // On a partial failure, keep whoever was already expanded rather than dropping them.
    if (!complete) for (const u of target[role]) expanded.add(u);
    target[role] = [...expanded];
  }
}
