import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { safeArtifactName } from '../../domain/artifact.js';
import { exportTimeline, timelineFormats, timelineToJson } from '../../timeline/export.js';
import { defineAction } from '../define.js';

const Message = z.strictObject({ text: z.string(), to: z.array(z.string()) });

export const noteAdd = defineAction({
  id: 'note.add',
  description: 'Add a fixed note to the timeline (e.g. a reminder of what containment does not cover)',
  params: z.strictObject({ text: z.string().min(1).max(3000) }),
  planData: z.strictObject({ text: z.string() }),
  outcomeData: z.strictObject({ text: z.string() }),
  rbac: [],
  destructive: false,
  needsCluster: false,
  example: { text: 'A pod kept for forensics still holds a valid service-account token.' },
  async plan(_ctx, params) {
    return { summary: params.text, changes: false, data: { text: params.text } };
  },
  async apply(_ctx, _plan, params) {
    return { status: 'applied', summary: params.text, data: { text: params.text } };
  },
});

/**
 * Say something to the people on the incident. The engine records it; the Slack layer posts every
 * applied notify.message into the incident thread (and mentions `to`).
 */
export const notifyMessage = defineAction({
  id: 'notify.message',
  description: 'Post a message in the incident thread, optionally mentioning people or a team',
  params: z.strictObject({ text: z.string().min(1).max(3000), to: z.array(z.string().min(1)).default([]) }),
  planData: Message,
  outcomeData: Message,
  rbac: [],
  destructive: false,
  needsCluster: false,
  example: { text: 'Forensics: the hand-off is in this thread.', to: ['S0FORENSICS'] },
  async plan(_ctx, params) {
    const to = params.to.length > 0 ? ` (to ${params.to.join(', ')})` : '';
    return {
      summary: `message${to}: ${params.text}`,
      changes: false,
      data: { text: params.text, to: params.to },
    };
  },
  async apply(_ctx, plan) {
    return { status: 'applied', summary: plan.summary, data: plan.data };
  },
});

const CONTENT_TYPES: Record<(typeof timelineFormats)[number], string> = {
  md: 'text/markdown; charset=utf-8',
  json: 'application/json',
};

/**
 * Export the timeline for forensics: its digest is recorded, each format is stored as an artifact
 * (uploaded to the thread by the Slack presenter; written to the evidence directory when one is
 * configured), and files are also written to `dir` when it is set (not in drills). The summary says
 * only what this action did: the upload is the presenter's, recorded as its own event.
 */
export const timelineExport = defineAction({
  id: 'timeline.export',
  description:
    'Export the incident timeline (Markdown and JSON) with a sha256 of its events, stored as artifacts for the thread, for forensics',
  params: z.strictObject({
    formats: z.array(z.enum(timelineFormats)).min(1).default(['md', 'json']),
    dir: z.string().min(1).optional(),
  }),
  planData: z.strictObject({}),
  outcomeData: z.strictObject({
    events: z.number().int(),
    sha256: z.string(),
    files: z.array(z.string()),
    formats: z.array(z.enum(timelineFormats)),
    /** The artifacts stored (name and sha256 of the bytes); absent in outcomes recorded before artifacts. */
    artifacts: z
      .array(z.strictObject({ name: z.string(), size: z.number().int(), sha256: z.string() }))
      .optional(),
  }),
  rbac: [],
  destructive: false,
  needsCluster: false,
  example: { formats: ['md', 'json'] },
  async plan(_ctx, params) {
    const where = params.dir ? ` (and to ${params.dir})` : '';
    return {
      summary: `export the timeline as ${params.formats.join(' and ')}, stored as artifacts for the thread${where}`,
      changes: false,
      data: {},
    };
  },
  async apply(ctx, _plan, params) {
    const events = await ctx.timeline();
    const digest = timelineToJson(ctx.incident, events).eventsSha256;
    const rendered = params.formats.map((format) => ({
      format,
      text: exportTimeline(format, ctx.incident, events),
    }));
    const artifacts = [];
    for (const { format, text } of rendered) {
      if (!ctx.artifacts) break;
      const stored = await ctx.artifacts.put({
        // Per step: a later export (another step) is another artifact; a replay of this one is this one.
        name: safeArtifactName(ctx.incident.id, 'timeline', ctx.stepId, format),
        contentType: CONTENT_TYPES[format],
        bytes: new TextEncoder().encode(text),
      });
      artifacts.push({ name: stored.name, size: stored.size, sha256: stored.sha256 });
    }
    const files: string[] = [];
    if (params.dir && !ctx.dryRun) {
      await mkdir(params.dir, { recursive: true });
      for (const { format, text } of rendered) {
        const file = join(params.dir, `${ctx.incident.id}.${format}`);
        await writeFile(file, text);
        files.push(file);
      }
    }
    const stored =
      artifacts.length > 0
        ? `; stored ${artifacts.length === 1 ? '1 artifact' : `${artifacts.length} artifacts`} (${artifacts.map((a) => a.name).join(', ')})`
        : '; not stored (no artifact store)';
    const where = files.length > 0 ? `; written to ${files.join(', ')}` : '';
    return {
      status: 'applied',
      summary: `timeline exported: ${events.length} events, sha256 ${digest.slice(0, 16)}…${stored}${where}`,
      data: { events: events.length, sha256: digest, files, formats: params.formats, artifacts },
    };
  },
});
