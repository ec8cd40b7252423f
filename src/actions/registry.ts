import { CodedError } from '../domain/errors.js';
import type { ActionDefinition, RbacRule } from './define.js';

/** The set of actions a deployment knows. Playbooks are checked against it before anything runs. */
export class ActionRegistry {
  readonly #actions = new Map<string, ActionDefinition>();

  constructor(defs: readonly ActionDefinition[] = []) {
    for (const def of defs) this.register(def);
  }

  register(def: ActionDefinition): this {
    if (this.#actions.has(def.id)) throw new Error(`action ${def.id} is registered twice`);
    this.#actions.set(def.id, def);
    return this;
  }

  get(id: string): ActionDefinition | undefined {
    return this.#actions.get(id);
  }

  require(id: string): ActionDefinition {
    const def = this.#actions.get(id);
    if (!def)
      throw new CodedError(
        'action_unknown',
        `unknown action "${id}"; known actions: ${this.ids().join(', ')}`,
      );
    return def;
  }

  ids(): string[] {
    return [...this.#actions.keys()].sort();
  }

  list(): ActionDefinition[] {
    return this.ids().map((id) => this.#actions.get(id)!);
  }

  /** The union of every action's RBAC needs, merged per apiGroup+resource (what deploy/ grants, base and components). */
  rbac(): RbacRule[] {
    const merged = new Map<string, RbacRule>();
    for (const def of this.list()) {
      for (const rule of def.rbac) {
        for (const group of rule.apiGroups) {
          for (const resource of rule.resources) {
            const key = `${group}/${resource}`;
            const existing = merged.get(key) ?? { apiGroups: [group], resources: [resource], verbs: [] };
            existing.verbs = [...new Set([...existing.verbs, ...rule.verbs])].sort();
            merged.set(key, existing);
          }
        }
      }
    }
    return [...merged.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([, r]) => r);
  }
}
