import { appendFileSync } from 'node:fs';

let options = { file: undefined, match: '' };

export function initialize(data) {
  options = data;
}

export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  if (options.file && result.url.includes(options.match)) appendFileSync(options.file, `${result.url}\n`);
  return result;
}
