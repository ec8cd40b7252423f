import { fileURLToPath } from 'node:url';

/** The package root (where playbooks/ ships), from src/config/ or dist/config/ alike. */
export const packageRoot = fileURLToPath(new URL('../../', import.meta.url));
