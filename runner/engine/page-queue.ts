/**
 * The pages waiting to run: ready ones in arrival order, retries ordered by when they may run.
 * At most `capacity` ready pages are held in memory; the rest stay in SQLite and are read back
 * in page order as the queue drains, so a job of any size keeps a flat heap.
 */
import type { QueuedPage } from '../store/page-store.js';
import { MinHeap } from './min-heap.js';

/** Reads queued pages with numbers >= from, in order. */
export type QueuedPageLoader = (from: number, limit: number) => QueuedPage[];

export class PageQueue {
  private ready: QueuedPage[] = [];
  private head = 0;
  private readonly delayed = new MinHeap<QueuedPage>((page) => page.runAfter ?? 0);
  /** Page numbers held in memory, ready or delayed. */
  private readonly held = new Set<number>();
  /** The lowest page number that may be queued in SQLite but not held here; Infinity if none. */
  private spilledFrom = Number.POSITIVE_INFINITY;

  constructor(
    private readonly load: QueuedPageLoader,
    private readonly capacity = 10_000,
  ) {}

  get readyCount(): number {
    return this.ready.length - this.head;
  }

  get delayedCount(): number {
    return this.delayed.size;
  }

  /** True when nothing waits, in memory or in SQLite. */
  get isEmpty(): boolean {
    return this.readyCount === 0 && this.delayed.size === 0 && this.spilledFrom === Number.POSITIVE_INFINITY;
  }

  /** Adds a page already recorded as queued in SQLite. */
  add(page: QueuedPage, now: number): void {
    if (this.held.has(page.no)) return;
    if (page.runAfter !== null && page.runAfter > now) {
      this.held.add(page.no);
      this.delayed.push(page);
      return;
    }
    if (this.readyCount >= this.capacity || page.no >= this.spilledFrom) {
      this.spilledFrom = Math.min(this.spilledFrom, page.no);
      return;
    }
    this.held.add(page.no);
    this.ready.push(page);
  }

  /** Marks pages from `from` on as possibly queued in SQLite, to be read back as room allows. */
  reloadFrom(from: number): void {
    this.spilledFrom = Math.min(this.spilledFrom, from);
  }

  /** Takes up to `max` pages that may run now, while `admit` accepts them. */
  take(now: number, max: number, admit: (page: QueuedPage) => boolean): QueuedPage[] {
    this.promoteDue(now);
    const taken: QueuedPage[] = [];
    while (taken.length < max) {
      if (this.readyCount === 0 && !this.refill(now)) break;
      const page = this.ready[this.head]!;
      if (!admit(page)) break;
      this.ready[this.head++] = undefined as unknown as QueuedPage;
      this.held.delete(page.no);
      taken.push(page);
    }
    if (this.head > 1024 && this.head * 2 > this.ready.length) {
      this.ready = this.ready.slice(this.head);
      this.head = 0;
    }
    return taken;
  }

  /** True when a page could start now: one is ready, a retry is due, or some wait in SQLite. */
  hasWaiting(now: number): boolean {
    this.promoteDue(now);
    return this.readyCount > 0 || this.spilledFrom !== Number.POSITIVE_INFINITY;
  }

  /** When the next delayed page becomes ready, or null. */
  nextDueAt(): number | null {
    return this.delayed.peek()?.runAfter ?? null;
  }

  private promoteDue(now: number): void {
    for (let page = this.delayed.peek(); page && (page.runAfter ?? 0) <= now; page = this.delayed.peek()) {
      this.delayed.pop();
      // Retries go to the front: they are older than anything queued behind them.
      if (this.head > 0) this.ready[--this.head] = page;
      else this.ready.unshift(page);
    }
  }

  private refill(now: number): boolean {
    while (this.readyCount === 0 && this.spilledFrom !== Number.POSITIVE_INFINITY) {
      const limit = this.capacity;
      const rows = this.load(this.spilledFrom, limit);
      this.spilledFrom = rows.length < limit ? Number.POSITIVE_INFINITY : rows[rows.length - 1]!.no + 1;
      for (const row of rows) {
        if (this.held.has(row.no)) continue;
        this.held.add(row.no);
        if (row.runAfter !== null && row.runAfter > now) this.delayed.push(row);
        else this.ready.push(row);
      }
    }
    return this.readyCount > 0;
  }
}
