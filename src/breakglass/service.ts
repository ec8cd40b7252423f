import type { Grant, GrantApproval } from '../domain/grant.js';
import { type By, type Caller, callerOf } from '../engine/ports.js';
import type { ScheduledItem } from '../store/store.js';
import { mayDecide, reasonOf } from './decide.js';
import { GrantEvents } from './events.js';
import { Lifecycle } from './lifecycle.js';
import type {
  GrantCommands,
  GrantPreview,
  GrantReader,
  GrantRequestInput,
  GrantRequestOptions,
} from './ports.js';
import { previewOf } from './preview.js';
import { type ReconcileReport, reconcile } from './reconcile.js';
import { shortDuration } from './render.js';
import { draftGrant, newGrantId, validateRequest } from './requests.js';
import type { BreakglassDeps } from './settings.js';
import { invalid } from './validate.js';

// Break-glass: the commands people give (request, approve, deny, revoke, extend) and what the
// composition root runs (each grant's schedule item, the periodic reconcile). Every command takes the
// grant's lock, checks who may do it, changes the record by compare-and-set and records the change
// in the incident's timeline; what then happens on its own (apply, expiry, removal) is lifecycle.ts.

export class Breakglass implements GrantCommands, GrantReader {
  readonly #d: BreakglassDeps;
  readonly #events: GrantEvents;
  readonly #life: Lifecycle;

  constructor(deps: BreakglassDeps) {
    this.#d = deps;
    this.#events = new GrantEvents(deps.journal, deps.log);
    this.#life = new Lifecycle(deps, this.#events);
  }

  // ---------------------------------------------------------------- reading (GrantReader)

  get(id: string): Promise<Grant> {
    return this.#life.load(id);
  }

  requestOptions(): GrantRequestOptions {
    return { maxDurationMs: { ...this.#d.config.maxDuration }, accessRoles: [...this.#d.config.accessRoles] };
  }

  list(opts: { live?: boolean; incidentId?: string; limit: number }): Promise<Grant[]> {
    return this.#d.store.grants.list(opts);
  }

  /** With a caller: validate and render a request (GrantCommands). Without: a stored grant's objects (GrantReader). */
  preview(input: GrantRequestInput, by: By): Promise<GrantPreview>;
  preview(grant: Grant): GrantPreview;
  preview(input: GrantRequestInput | Grant, by?: By): Promise<GrantPreview> | GrantPreview {
    if (by === undefined) {
      const g = input as Grant;
      return previewOf(this.#life.render(g), g, this.#d.config, Boolean(this.#d.cluster));
    }
    return this.#previewRequest(input as GrantRequestInput, callerOf(by));
  }

  async #previewRequest(input: GrantRequestInput, caller: Caller): Promise<GrantPreview> {
    const { valid, incident } = await validateRequest(this.#d, this.#events, input, caller, false);
    const draft = draftGrant(this.#d, this.#life, valid, incident, caller, 'bg-0000000000');
    return previewOf(this.#life.render(draft), draft, this.#d.config, Boolean(this.#d.cluster));
  }

  // ---------------------------------------------------------------- commands (GrantCommands)

  async request(input: GrantRequestInput, by: By): Promise<Grant> {
    const caller = callerOf(by);
    const { valid, incident } = await validateRequest(this.#d, this.#events, input, caller, true);
    const draft = draftGrant(
      this.#d,
      this.#life,
      valid,
      incident,
      caller,
      newGrantId(caller, valid.incidentId),
    );
    const { grant } = await this.#d.store.grants.create(draft);
    // Recorded and scheduled even when the grant already existed: a crash between the create and
    // these leaves nothing undone, and both are idempotent.
    await this.#events.record(
      grant,
      'grant.requested',
      'requested',
      `requested by ${grant.requester}: ${this.#life.describe(grant)} for ${shortDuration(grant.durationMs)} (reason: ${grant.reason}${grant.ticket ? `; ticket ${grant.ticket}` : ''}); needs ${grant.approvalsRequired} approval(s) from approvers other than the requester by ${grant.requestExpiresAt}`,
      { actor: grant.requester },
    );
    await this.#life.schedule(grant);
    return grant;
  }

  async approve(id: string, by: By): Promise<Grant> {
    const caller = callerOf(by);
    return this.#life.locked(id, async () => {
      let g = await this.#life.load(id);
      const incident = await this.#events.incident(g.incidentId);
      const ext = g.status === 'active' ? g.extension : undefined;
      if (g.status !== 'pending' && !ext) {
        return this.#events.refuse(
          incident,
          id,
          caller,
          'approve it',
          'transition_invalid',
          `the grant is ${g.status}: nothing waits for approval`,
        );
      }
      await mayDecide(
        this.#d,
        this.#events,
        incident,
        g,
        caller,
        'approve',
        ext?.requester ?? g.requester,
        ext?.approvals ?? g.approvals,
      );
      if (Date.parse(ext?.requestExpiresAt ?? g.requestExpiresAt) <= this.#d.clock.now()) {
        await this.#life.settle(g);
        return this.#events.refuse(
          incident,
          id,
          caller,
          'approve it',
          'transition_invalid',
          'the request expired before it was decided',
        );
      }
      const approval: GrantApproval = { by: caller.actor, at: this.#life.nowIso() };
      if (ext) return this.#approveExtension(g, approval);
      const met = g.approvals.length + 1 >= g.approvalsRequired;
      g = await this.#life.save(g, (d) => {
        d.approvals.push(approval);
        if (!met) return;
        d.status = 'approved';
        d.approvedAt = approval.at;
        d.expiresAt = new Date(Date.parse(approval.at) + d.durationMs).toISOString();
      });
      await this.#events.record(
        g,
        'grant.approved',
        `approved:${caller.actor}`,
        met
          ? `approved by ${caller.actor} (${g.approvals.length}/${g.approvalsRequired}): applying; ends at ${g.expiresAt}`
          : `approved by ${caller.actor} (${g.approvals.length} of ${g.approvalsRequired} approvals)`,
        { actor: caller.actor },
      );
      if (!met) {
        await this.#life.schedule(g);
        return g;
      }
      await this.#life.schedule(g);
      return this.#life.apply(g);
    });
  }

  async #approveExtension(g: Grant, approval: GrantApproval): Promise<Grant> {
    const ext = g.extension!;
    const approvals = [...ext.approvals, approval];
    const met = approvals.length >= g.approvalsRequired;
    const previous = g.expiresAt!;
    const next = await this.#life.save(g, (d) => {
      if (!met) {
        d.extension!.approvals = approvals;
        return;
      }
      d.expiresAt = new Date(Date.parse(previous) + ext.durationMs).toISOString();
      delete d.extension;
    });
    await this.#events.record(
      next,
      'grant.approved',
      `extension:${Date.parse(ext.requestedAt)}:approved:${approval.by}`,
      `extension by ${shortDuration(ext.durationMs)} approved by ${approval.by} (${approvals.length}${met ? '/' : ' of '}${g.approvalsRequired})`,
      { actor: approval.by },
    );
    if (!met) {
      await this.#life.schedule(next);
      return next;
    }
    return this.#life.extended(
      next,
      previous,
      ext.durationMs,
      approvals.map((a) => a.by),
    );
  }

  async deny(id: string, by: By, reason: string): Promise<Grant> {
    const caller = callerOf(by);
    const why = reasonOf(reason);
    return this.#life.locked(id, async () => {
      const g = await this.#life.load(id);
      const incident = await this.#events.incident(g.incidentId);
      const ext = g.status === 'active' ? g.extension : undefined;
      if (g.status !== 'pending' && !ext) {
        return this.#events.refuse(
          incident,
          id,
          caller,
          'deny it',
          'transition_invalid',
          `the grant is ${g.status}: nothing waits for a decision`,
        );
      }
      await mayDecide(
        this.#d,
        this.#events,
        incident,
        g,
        caller,
        'deny',
        ext?.requester ?? g.requester,
        ext?.approvals ?? g.approvals,
      );
      if (!ext) return this.#life.end(g, 'denied', caller.actor, why);
      const next = await this.#life.save(g, (d) => {
        delete d.extension;
      });
      await this.#events.record(
        next,
        'grant.denied',
        `extension:${Date.parse(ext.requestedAt)}:denied`,
        `extension by ${shortDuration(ext.durationMs)} denied by ${caller.actor}: ${why}; the grant still ends at ${g.expiresAt}`,
        { actor: caller.actor },
      );
      await this.#life.schedule(next);
      return next;
    });
  }

  async revoke(id: string, by: By, reason: string): Promise<Grant> {
    const caller = callerOf(by);
    const why = reasonOf(reason);
    return this.#life.locked(id, async () => {
      const g = await this.#life.load(id);
      const incident = await this.#events.incident(g.incidentId);
      if (caller.actor !== g.requester && !this.#d.access.has(caller.actor, 'approver')) {
        return this.#events.refuse(
          incident,
          id,
          caller,
          'revoke it',
          'not_authorized',
          'only its requester or an approver may revoke a grant',
        );
      }
      if (!['pending', 'approved', 'active'].includes(g.status)) {
        return this.#events.refuse(
          incident,
          id,
          caller,
          'revoke it',
          'transition_invalid',
          `the grant already ended (${g.status})`,
        );
      }
      return this.#life.end(g, 'revoked', caller.actor, why);
    });
  }

  async requestExtension(id: string, by: By, durationMs: number, reason: string): Promise<Grant> {
    const caller = callerOf(by);
    const why = reasonOf(reason);
    return this.#life.locked(id, async () => {
      const g = await this.#life.load(id);
      const incident = await this.#events.incident(g.incidentId);
      if (!this.#d.access.has(caller.actor, 'responder')) {
        return this.#events.refuse(
          incident,
          id,
          caller,
          'extend it',
          'not_authorized',
          'asking for more time needs the responder role',
        );
      }
      if (g.status !== 'active' || g.extension) {
        const state = g.extension ? 'an extension already waits for approval' : `the grant is ${g.status}`;
        return this.#events.refuse(incident, id, caller, 'extend it', 'transition_invalid', state);
      }
      const max = this.#d.config.maxDuration[g.spec.kind];
      const used = Date.parse(g.expiresAt!) - Date.parse(g.approvedAt!);
      if (!Number.isInteger(durationMs) || durationMs <= 0 || used + durationMs > max) {
        throw invalid('invalid extension', [
          {
            path: 'durationMs',
            message: `expected a duration longer than 0 and at most ${shortDuration(Math.max(0, max - used))} (the grant has lasted ${shortDuration(used)} of its ${shortDuration(max)} maximum, breakglass.maxDuration.${g.spec.kind})`,
            value: String(durationMs),
          },
        ]);
      }
      const now = this.#d.clock.now();
      const next = await this.#life.save(g, (d) => {
        d.extension = {
          durationMs,
          requester: caller.actor,
          requestedAt: new Date(now).toISOString(),
          requestExpiresAt: new Date(now + this.#d.config.requestTtl).toISOString(),
          reason: why,
          approvals: [],
        };
      });
      await this.#events.record(
        next,
        'grant.extension_requested',
        `extension:${now}:requested`,
        `${caller.actor} asks for ${shortDuration(durationMs)} more (reason: ${why}); needs ${g.approvalsRequired} approval(s) from approvers other than them by ${next.extension!.requestExpiresAt}`,
        { actor: caller.actor },
      );
      await this.#life.schedule(next);
      return next;
    });
  }

  async attachMessage(id: string, message: { channel: string; ts: string }): Promise<Grant> {
    return this.#life.locked(id, async () => {
      const g = await this.#life.load(id);
      if (g.message?.channel === message.channel && g.message.ts === message.ts) return g;
      return this.#life.save(g, (d) => {
        d.message = { channel: message.channel, ts: message.ts };
      });
    });
  }

  // ---------------------------------------------------------------- run by the composition root

  /** The schedule item `grant:<id>` is due: do what is due for the grant (it moves or removes the item). */
  async fire(item: ScheduledItem): Promise<boolean> {
    const id = item.data.grantId;
    if (typeof id !== 'string') {
      this.#d.log.warn({ item: item.id }, 'grant schedule item without a grant id dropped');
      await this.#d.store.schedule.remove(item.id);
      return false;
    }
    return this.#life.locked(id, async () => {
      const g = await this.#d.store.grants.get(id);
      if (!g) {
        await this.#d.store.schedule.remove(item.id);
        return false;
      }
      return (await this.#life.settle(g)).version !== g.version;
    });
  }

  /** Reconcile the store and the cluster (start-up and every breakglass.reconcileEvery; one replica at a time). */
  reconcile(): Promise<ReconcileReport> {
    return reconcile(this.#d, this.#life, this.#events);
  }
}
