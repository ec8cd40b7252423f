import { asNetpol } from '../actions/k8s/contain/common.js';
import { CodedError } from '../domain/errors.js';
import { endedGrantStatuses, type Grant, type GrantStatus } from '../domain/grant.js';
import type { KubeObject } from '../k8s/types.js';
import { isoAt } from '../observability/clock.js';
import type { GrantEvents } from './events.js';
import { applyObjects, errorText, refText, removeObjects } from './kube.js';
import { assertIsolated, readSource, type SourceScene } from './preflight.js';
import { describeSpec, objectName, type RenderOptions, renderGrant, shortDuration } from './render.js';
import {
  APPLY_RETRY_MS,
  type BreakglassDeps,
  GRANT_ITEM_KIND,
  GRANT_LOCK,
  grantItemId,
  grantLockKey,
  removalBackoffMs,
  SYSTEM,
} from './settings.js';
import { type Verification, verifyCilium, verifyNetworkPolicy, verifyRoleBinding } from './verify.js';

// What happens to a grant without anyone asking: apply once approved, expire on time, remove what an
// ended grant created (retried until it is gone), and keep the grant's one schedule item on its next
// deadline. Shared by the commands (the last approval applies), the schedule item and the reconciler;
// every method runs under the grant's lock (the caller takes it) and changes the record by
// compare-and-set only.

/** A grant that ended after approval may have objects in the cluster until its removal is recorded. */
export function removalPending(g: Grant): boolean {
  return endedGrantStatuses.includes(g.status) && g.approvedAt !== undefined && !g.removal?.removedAt;
}

type Ended = 'denied' | 'request_expired' | 'revoked' | 'expired' | 'failed';

export class Lifecycle {
  readonly #d: BreakglassDeps;
  readonly #events: GrantEvents;

  constructor(deps: BreakglassDeps, events: GrantEvents) {
    this.#d = deps;
    this.#events = events;
  }

  get renderOptions(): RenderOptions {
    return { kyvernoCleanup: this.#d.config.kyvernoCleanup, fqdnPolicy: this.#d.config.fqdnPolicy };
  }

  /** The grant's objects as they are (or will be) applied: expiry and approvers once known. */
  render(g: Grant): KubeObject[] {
    return renderGrant(
      {
        id: g.id,
        incidentId: g.incidentId,
        spec: g.spec,
        sourceSelector: g.sourceSelector,
        requester: g.requester,
        approvers: g.approvals.map((a) => a.by),
        reason: g.reason,
        ticket: g.ticket,
        durationMs: g.durationMs,
        expiresAt: g.expiresAt === undefined ? undefined : Date.parse(g.expiresAt),
      },
      this.renderOptions,
    );
  }

  locked<T>(id: string, fn: () => Promise<T>): Promise<T> {
    return this.#d.store.locks.withLock(grantLockKey(id), GRANT_LOCK, fn);
  }

  async load(id: string): Promise<Grant> {
    const g = await this.#d.store.grants.get(id);
    if (!g) throw new CodedError('grant_not_found', `no break-glass grant ${id}`, { details: { id } });
    return g;
  }

  /** Compare-and-set from `g` (a conflict under the lock means the lock was lost: the caller retries). */
  save(g: Grant, change: (draft: Grant) => void): Promise<Grant> {
    const draft = structuredClone(g);
    change(draft);
    return this.#d.store.grants.update(draft, g.version);
  }

  nowIso(): string {
    return isoAt(this.#d.clock.now());
  }

  /** When the grant's item must fire next; undefined when nothing about it will ever be due again. */
  nextDue(g: Grant): number | undefined {
    const now = this.#d.clock.now();
    const at = (iso: string | undefined) => (iso === undefined ? Number.POSITIVE_INFINITY : Date.parse(iso));
    switch (g.status) {
      case 'pending':
        return at(g.requestExpiresAt);
      case 'approved':
        // Applying now (or a replica died applying): take it up again soon, and never after the expiry.
        return Math.min(at(g.expiresAt), now + APPLY_RETRY_MS);
      case 'active':
        return Math.min(at(g.expiresAt), at(g.extension?.requestExpiresAt));
      default:
        return removalPending(g)
          ? now + (g.removal?.attempts ? removalBackoffMs(g.removal.attempts) : 0)
          : undefined;
    }
  }

  async schedule(g: Grant): Promise<void> {
    const due = this.nextDue(g);
    const id = grantItemId(g.id);
    if (due === undefined) await this.#d.store.schedule.remove(id);
    else await this.#d.store.schedule.put({ id, dueAt: due, data: { kind: GRANT_ITEM_KIND, grantId: g.id } });
  }

  /** Do whatever is due for `g` now (its request expired, its apply is unfinished, it expired, its objects must go). */
  async settle(g: Grant): Promise<Grant> {
    const now = this.#d.clock.now();
    const passed = (iso: string | undefined) => iso !== undefined && now >= Date.parse(iso);
    if (g.status === 'pending' && passed(g.requestExpiresAt)) {
      return this.end(g, 'request_expired', SYSTEM, `nobody decided the request by ${g.requestExpiresAt}`);
    }
    if ((g.status === 'approved' || g.status === 'active') && passed(g.expiresAt)) {
      return this.end(g, 'expired', SYSTEM, `its expiry ${g.expiresAt} passed`);
    }
    if (g.status === 'approved') return this.apply(g);
    let next = g;
    if (g.status === 'active' && g.extension && passed(g.extension.requestExpiresAt)) {
      const ext = g.extension;
      next = await this.save(g, (d) => {
        delete d.extension;
      });
      await this.#events.record(
        next,
        'grant.request_expired',
        `extension:${Date.parse(ext.requestedAt)}:request_expired`,
        `the request for ${shortDuration(ext.durationMs)} more expired undecided; the grant still ends at ${g.expiresAt}`,
      );
    }
    if (removalPending(next)) return this.remove(next);
    await this.schedule(next);
    return next;
  }

  /** End the grant (recorded), then remove whatever it may have created. */
  async end(g: Grant, status: Ended, by: string, reason: string): Promise<Grant> {
    const at = this.nowIso();
    const ended = await this.save(g, (d) => {
      d.status = status as GrantStatus;
      d.ended = { at, by, reason };
      delete d.extension;
      if (status === 'denied') d.denial = { by, at, reason };
    });
    const said: Record<Ended, string> = {
      denied: `denied by ${by}: ${reason}`,
      request_expired: `request expired: ${reason}`,
      revoked: `revoked by ${by}: ${reason}${removalPending(ended) ? '; removing its objects' : ''}`,
      expired: `expired at ${g.expiresAt}: removing its objects`,
      failed: `failed: ${reason}; removing anything it created`,
    };
    await this.#events.record(ended, `grant.${status}`, status, said[status], { actor: by });
    if (removalPending(ended)) return this.remove(ended);
    await this.schedule(ended);
    return ended;
  }

  /** Delete the objects of an ended grant; a failure is recorded and retried (bounded backoff) until they are gone. */
  async remove(g: Grant): Promise<Grant> {
    const attempt = (g.removal?.attempts ?? 0) + 1;
    const r = await removeObjects(this.#d.cluster, g.objects, { drill: g.drill });
    if (r.errors.length === 0) {
      const done = await this.save(g, (d) => {
        d.removal = { attempts: attempt, removedAt: this.nowIso() };
      });
      await this.#events.record(done, 'grant.removed', 'removed', `removed ${r.gone.join(', ')}`);
      await this.schedule(done);
      return done;
    }
    const lastError = r.errors.join('; ');
    const failed = await this.save(g, (d) => {
      d.removal = { attempts: attempt, lastError };
    });
    await this.#events.record(
      failed,
      'grant.removal_failed',
      `removal_failed:${attempt}`,
      `removal failed (attempt ${attempt}): ${lastError}. Retrying in ${shortDuration(removalBackoffMs(attempt))}, and at every reconcile, until it succeeds`,
      { details: { attempt, error: lastError } },
    );
    await this.schedule(failed);
    return failed;
  }

  /** An approved grant: preflight, server-side apply (dry run first), verify, then active. */
  async apply(g: Grant): Promise<Grant> {
    const cluster = this.#d.cluster;
    if (!cluster) {
      if (!g.drill)
        return this.end(g, 'failed', SYSTEM, 'no Kubernetes cluster is configured: nothing could be applied');
      return this.activate(g, {
        ok: true,
        line: 'Verification (dry-run): planned only — no cluster is configured, nothing was sent',
      });
    }
    const objects = this.render(g);
    let scene: SourceScene | undefined;
    try {
      if (g.spec.kind === 'egress-exception') {
        scene = await readSource(cluster, g.spec.namespace, g.sourceSelector ?? {});
        assertIsolated(scene, objectName(g.id));
      }
      await applyObjects(cluster, objects, { drill: g.drill });
    } catch (err) {
      return this.end(g, 'failed', SYSTEM, `apply refused: ${errorText(err)}`);
    }
    const applied = await this.save(g, (d) => {
      d.appliedAt = this.nowIso();
    });
    const what = g.objects.map(refText).join(', ');
    await this.#events.record(
      applied,
      'grant.applied',
      'applied',
      g.drill
        ? `server-side dry run of ${what} accepted; nothing was created`
        : `applied ${what} (server-side apply after a dry run); ends at ${g.expiresAt}`,
    );
    let v: Verification;
    try {
      v = await this.verify(applied, objects, scene);
    } catch (err) {
      v = { ok: false, line: `Verification: failed — could not read back: ${errorText(err)}` };
    }
    if (!v.ok) return this.end(applied, 'failed', SYSTEM, v.line);
    return this.activate(applied, v);
  }

  async activate(g: Grant, v: Verification): Promise<Grant> {
    const active = await this.save(g, (d) => {
      d.status = 'active';
      d.verification = v.line;
      d.appliedAt ??= this.nowIso();
    });
    await this.#events.record(active, 'grant.verified', 'verified', v.line, { details: { ok: v.ok } });
    await this.schedule(active);
    return active;
  }

  async verify(g: Grant, objects: KubeObject[], scene: SourceScene | undefined): Promise<Verification> {
    const cluster = this.#d.cluster!;
    const [obj] = objects;
    if (!obj) throw new CodedError('internal', `grant ${g.id} renders nothing`, { userSafe: false });
    const ref = g.objects[0]!;
    const readBack = async () => (g.drill ? obj : await cluster.get(ref));
    if (g.spec.kind === 'access-elevation') {
      return verifyRoleBinding({ expected: obj, readBack: await readBack(), dryRun: g.drill });
    }
    const ns = g.spec.namespace;
    const base = scene!;
    const after = g.drill
      ? [
          ...base.policies.filter((p) => p.metadata.name !== ref.name),
          ...(obj.kind === 'NetworkPolicy' ? [asNetpol(obj, ns)] : []),
        ]
      : (await cluster.listNetworkPolicies(ns)).map((p) => asNetpol(p, ns));
    if (obj.kind === 'NetworkPolicy')
      return verifyNetworkPolicy({ expected: obj, scene: base, after, dryRun: g.drill });
    const dest = g.spec.destination;
    return verifyCilium({
      expected: obj,
      readBack: await readBack(),
      scene: base,
      after,
      fqdn: dest.kind === 'fqdn' ? dest.fqdn : '',
      ports: g.spec.ports.map((p) => `${p.protocol}/${p.port}`).join(', '),
      dryRun: g.drill,
    });
  }

  /** An extension was approved (the record already holds the new expiry): re-apply with it and say so. */
  async extended(g: Grant, previous: string, added: number, approvers: string[]): Promise<Grant> {
    let note = 'its objects carry the new expiry';
    if (this.#d.cluster) {
      try {
        await applyObjects(this.#d.cluster, this.render(g), { drill: g.drill });
      } catch (err) {
        // Safe direction: the cluster still holds the earlier expiry, so the objects may go early, never late.
        note = `re-annotating its objects failed (${errorText(err)}): the cluster's own cleanup may remove them at ${previous}`;
        this.#d.log.warn({ grant: g.id, err }, 'extended grant not re-applied');
      }
    } else if (!g.drill) note = 'no cluster is configured: its objects were not re-annotated';
    await this.#events.record(
      g,
      'grant.extended',
      `extended:${Date.parse(g.expiresAt!)}`,
      `extended by ${shortDuration(added)} (approved by ${approvers.join(', ')}): now ends at ${g.expiresAt} instead of ${previous}; ${note}`,
    );
    await this.schedule(g);
    return g;
  }

  describe(g: Grant): string {
    return describeSpec(g.spec, g.sourceSelector);
  }
}
