// Coalescing per key: many changes to one incident's root message (or one step's message) within a
// window become one Slack call. A later request for the same key never postpones a pending one; an
// earlier one moves it forward (a status change does not wait behind a count change's longer window).

export class Coalescer {
  readonly #pending = new Map<string, { timer: NodeJS.Timeout; dueAt: number }>();

  constructor(private readonly fire: (key: string) => void) {}

  /** Run `fire(key)` within `delayMs`, once, however often this is called before then. */
  schedule(key: string, delayMs: number): void {
    const dueAt = Date.now() + delayMs;
    const pending = this.#pending.get(key);
    if (pending && pending.dueAt <= dueAt) return;
    if (pending) clearTimeout(pending.timer);
    this.#pending.set(key, {
      dueAt,
      timer: setTimeout(() => {
        this.#pending.delete(key);
        this.fire(key);
      }, delayMs),
    });
  }

  get size(): number {
    return this.#pending.size;
  }

  /** Run every pending key now instead of at its time (flush, shutdown). */
  fireNow(): void {
    const keys = [...this.#pending.keys()];
    for (const p of this.#pending.values()) clearTimeout(p.timer);
    this.#pending.clear();
    for (const key of keys) this.fire(key);
  }
}
