import type { Grant, GrantKind } from '../domain/grant.js';
import type { By } from '../engine/ports.js';
import type { KubeObject } from '../k8s/types.js';

// What the Slack layer and the CLI are given of break-glass: reads, and the commands that move a grant
// through its life. Every command checks who may do it (requester: responder; approvers: approver and
// never the requester; revoke: the requester or any approver), is a compare-and-set on the grant
// record, and lands in the incident's timeline with its actor.

/** What a person asks for (from the modal or the CLI); validated by the service (precise errors). */
export interface GrantRequestInput {
  incidentId: string;
  /** A GrantSpec as typed (domain/grant.ts); parsed and checked by the service. */
  spec: unknown;
  durationMs: number;
  reason: string;
  ticket?: string;
}

/** What will be created, shown before submit and on the approval message. */
export interface GrantPreview {
  /** The objects exactly as they will be applied (annotations filled in at approval are shown as they will read). */
  objects: KubeObject[];
  /** The objects as YAML, for people. */
  yaml: string;
  /** Things the requester should know (e.g. the FQDN needs Cilium; the pods are not egress-isolated). */
  warnings: string[];
  /** The longest this kind may last, in ms. */
  maxDurationMs: number;
}

export interface GrantCommands {
  /** Validate and render a request without storing anything; throws a user-safe CodedError naming the field. */
  preview(input: GrantRequestInput, by: By): Promise<GrantPreview>;
  /** Store the request (pending) and ask for approval; the same request id twice makes one grant. */
  request(input: GrantRequestInput, by: By): Promise<Grant>;
  /** One approval; the last one needed applies the grant (dry-run first) and verifies it. */
  approve(id: string, by: By): Promise<Grant>;
  deny(id: string, by: By, reason: string): Promise<Grant>;
  /** End it early: its objects are removed (retried until they are gone). */
  revoke(id: string, by: By, reason: string): Promise<Grant>;
  /** Ask for more time (approved like the grant; the total stays within the kind's maximum). */
  requestExtension(id: string, by: By, durationMs: number, reason: string): Promise<Grant>;
  /** The presenter posted the grant's message in the thread. */
  attachMessage(id: string, message: { channel: string; ts: string }): Promise<Grant>;
}

/** What a request form may offer before anything is typed (the config's bounds, as the service applies them). */
export interface GrantRequestOptions {
  /** The longest each kind may last, in ms (extensions included). */
  maxDurationMs: Record<GrantKind, number>;
  /** The ClusterRoles an access elevation may bind (the allow-list). */
  accessRoles: readonly string[];
}

export interface GrantReader {
  get(id: string): Promise<Grant>;
  /** The bounds a request form shows: durations per kind and the allow-listed roles. */
  requestOptions(): GrantRequestOptions;
  /** Newest first; `live`: pending, approved and active only. */
  list(opts: { live?: boolean; incidentId?: string; limit: number }): Promise<Grant[]>;
  /** The objects a stored grant creates (or created), as applied. */
  preview(grant: Grant): GrantPreview;
}
