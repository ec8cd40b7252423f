import type { ArtifactMeta } from '../domain/artifact.js';
import { MAX_ARTIFACT_BYTES } from '../domain/artifact.js';
import { artifactMetaOf } from './artifacts-codec.js';
import type { ArtifactStore } from './store.js';

// The memory store's artifacts: bytes copied in and out, so a caller can never change what is stored.

export function memoryArtifacts(open: () => void, maxBytes = MAX_ARTIFACT_BYTES): ArtifactStore {
  const byIncident = new Map<string, Map<string, { meta: ArtifactMeta; bytes: Buffer }>>();
  return {
    async put(incidentId, artifact) {
      open();
      const meta = artifactMetaOf(incidentId, artifact, maxBytes);
      let held = byIncident.get(incidentId);
      if (!held) {
        held = new Map();
        byIncident.set(incidentId, held);
      }
      const first = held.get(meta.name);
      if (first) return { artifact: structuredClone(first.meta), created: false };
      held.set(meta.name, { meta, bytes: Buffer.from(artifact.bytes) });
      return { artifact: structuredClone(meta), created: true };
    },
    async get(incidentId, name) {
      open();
      const found = byIncident.get(incidentId)?.get(name);
      return found ? { artifact: structuredClone(found.meta), bytes: Buffer.from(found.bytes) } : undefined;
    },
    async list(incidentId) {
      open();
      return [...(byIncident.get(incidentId)?.values() ?? [])].map((a) => structuredClone(a.meta));
    },
  };
}
