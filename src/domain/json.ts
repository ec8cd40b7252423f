/** A JSON value: what timeline details and stored action data are made of. */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

/** A value as JSON would carry it (undefined fields dropped, dates as strings): for records. */
export function toJson(value: unknown): Json {
  return JSON.parse(JSON.stringify(value ?? null)) as Json;
}
