/**
 * The ids of signals already handled, bounded: at most `capacity` are remembered and the oldest is
 * forgotten first. Delivery from a queue is at least once and a charting tool may fire an alert
 * twice; a repeat within the window is refused as DUPLICATE. Past the window, the entry intent's id
 * (derived from the signal id) gives the same client order id, so the journal's create-only order
 * record still refuses a second order for it.
 */
export class SignalDeduper {
  private readonly ids = new Set<string>();

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`SignalDeduper: capacity must be an integer >= 1, got ${capacity}`);
  }

  /** True when `id` was seen (and is still remembered); otherwise remembers it and returns false. */
  seen(id: string): boolean {
    if (this.ids.has(id)) return true;
    this.ids.add(id);
    if (this.ids.size > this.capacity) {
      // A Set iterates in insertion order: the first key is the oldest.
      const oldest = this.ids.values().next().value as string;
      this.ids.delete(oldest);
    }
    return false;
  }

  get size(): number {
    return this.ids.size;
  }
}
