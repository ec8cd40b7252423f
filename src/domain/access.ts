/** Who may do what. Slack user IDs (U…/W…) and user-group IDs (S…) come from the config. */
export type Role = 'responder' | 'approver';

export interface AccessPolicy {
  has(actor: string, role: Role): boolean;
}

/** Drills and the CLI act as themselves with every role: nothing real is touched without a cluster. */
export const allowAll: AccessPolicy = { has: () => true };

/**
 * Actors are `slack:U123` for Slack users. Group membership (S…) is resolved by the Slack layer,
 * which passes expanded members in `members`.
 */
export function accessFromLists(lists: {
  responders: readonly string[];
  approvers: readonly string[];
}): AccessPolicy {
  const strip = (actor: string) => actor.replace(/^slack:/, '');
  return {
    has(actor, role) {
      const id = strip(actor);
      return role === 'responder' ? lists.responders.includes(id) : lists.approvers.includes(id);
    },
  };
}
