// `node --import <this file>`: every module the process resolves whose URL contains
// RECORD_LOADS_MATCH is appended to RECORD_LOADS_FILE (a test's proof of what a process loaded).
import { register } from 'node:module';

register(new URL('./record-loads-hooks.mjs', import.meta.url), {
  data: { file: process.env.RECORD_LOADS_FILE, match: process.env.RECORD_LOADS_MATCH ?? '' },
});
