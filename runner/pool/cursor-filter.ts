/**
 * A Bloom filter of a job's page cursors, in memory the scheduler shares with its worker threads.
 * A thread that starts a child on its own, without committing it (the scheduler is saturated),
 * must first know that the child's cursor is no page's yet; asking SQLite costs a read
 * transaction, about 5 µs, on every such child, which at tens of thousands of pages a second took
 * a tenth of the no-op throughput on two cores. The filter answers "certainly not" in well under
 * a microsecond; only "maybe" (a page has it, or a false positive) still reads the database.
 *
 * Every cursor is added before the transaction that inserts it commits, so the filter always
 * holds at least the committed pages. It is trusted only once `complete`: the scheduler sets that
 * after adding every page the job had when it began (a resumed job may have millions).
 */

/** 2^26 bits (8 MiB): about 1% false positives at 4 million pages, 6% at 10 million; then more reads. */
export const CURSOR_FILTER_BITS = 2 ** 26;
const HASHES = 3;
/** Word 0 holds the state; the bits follow. */
const STATE = 0;
const COMPLETE = 1;

export class CursorFilter {
  private readonly words: Int32Array;
  /** Selects a word of the filter from a hash. */
  private readonly wordMask: number;

  constructor(readonly buffer: SharedArrayBuffer) {
    this.words = new Int32Array(buffer);
    const bits = (this.words.length - 1) * 32;
    if (bits <= 0 || (bits & (bits - 1)) !== 0) throw new RangeError(`a cursor filter holds a power of two of bits, got ${bits}`);
    this.wordMask = bits / 32 - 1;
  }

  static create(bits = CURSOR_FILTER_BITS): CursorFilter {
    return new CursorFilter(new SharedArrayBuffer(4 + bits / 8));
  }

  /** Adds a page's cursor and size, by their cursorHash. Any thread may call it at any time. */
  add(h: number): void {
    Atomics.or(this.words, 1 + (h & this.wordMask), bitsOf(h));
  }

  /** False: no page has the cursor and size of this cursorHash (when `complete`). True: one may. */
  mayHave(h: number): boolean {
    const bits = bitsOf(h);
    // A plain read: an add that races with it is a page not yet committed, which the read check
    // would not see either.
    return (this.words[1 + (h & this.wordMask)]! & bits) === bits;
  }

  /** Whether every page the job had when it began has been added. */
  get complete(): boolean {
    return Atomics.load(this.words, STATE) === COMPLETE;
  }

  markComplete(): void {
    Atomics.store(this.words, STATE, COMPLETE);
  }
}

/**
 * A 32-bit hash (FNV-1a) of a page's cursor (as JSON) and size: the filter's key, and the worker's
 * for the cursors it awaits answers for. Its low bits pick the filter's word.
 */
export function cursorHash(cursor: string, size: number | null): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < cursor.length; i++) {
    h ^= cursor.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  // A size of null and a size of 0 differ.
  h ^= size === null ? 0x9e3779b9 : size;
  return Math.imul(h, 0x01000193);
}

/**
 * HASHES bits of a word, from a murmur3 finish of the hash (its 5-bit fields): all in one word,
 * so an add or a check touches one cache line, a blocked Bloom filter. (Three bits anywhere in
 * 8 MiB cost three cache misses each time.)
 */
function bitsOf(h: number): number {
  let g = h ^ 0x5bd1e995;
  g ^= g >>> 16;
  g = Math.imul(g, 0x85ebca6b);
  g ^= g >>> 13;
  g = Math.imul(g, 0xc2b2ae35);
  g ^= g >>> 16;
  let bits = 0;
  for (let i = 0; i < HASHES; i++) bits |= 1 << ((g >>> (5 * i)) & 31);
  return bits;
}
