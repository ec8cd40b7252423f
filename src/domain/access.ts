/**
 * Who may do what. Slack user IDs (U…/W…) and user-group IDs (S…) come from the config.
 * `viewer` may read incidents (status, timeline); responders and approvers are viewers too.
 */
export type Role = 'responder' | 'approver' | 'viewer';

export interface AccessPolicy {
  has(actor: string, role: Role): boolean;
}

/** Drills and the CLI act as themselves with every role: nothing real is touched without a cluster. */
export const allowAll: AccessPolicy = { has: () => true };

/**
 * Actors are `slack:U123` for Slack users. Group membership (S…) is resolved by the Slack layer,
 * which expands the lists in place (they are read live).
 */
export function accessFromLists(lists: {
  responders: readonly string[];
  approvers: readonly string[];
  viewers?: readonly string[];
}): AccessPolicy {
  const strip = (actor: string) => actor.replace(/^slack:/, '');
  const rows: Record<Role, () => readonly (readonly string[])[]> = {
    responder: () => [lists.responders],
    approver: () => [lists.approvers],
    viewer: () => [lists.responders, lists.approvers, lists.viewers ?? []],
  };
  return {
    has(actor, role) {
      const id = strip(actor);
      return rows[role]().some((list) => list.includes(id));
    },
  };
}
