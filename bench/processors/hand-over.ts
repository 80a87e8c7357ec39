// The I/O-bound processors' common tail: hand the next cursor to Baton (when there is one), then
// process for `processMs`, or both at once with `overlap` (see docs/performance.md).
import type { PageContext } from 'baton';

export async function handOverAndProcess<Args>(ctx: PageContext<number, Args>, next: number | undefined, processMs: number, overlap = false): Promise<void> {
  const handOver = () => (next !== undefined ? ctx.enqueueNextPage({ cursor: next }) : undefined);
  const process = () => new Promise((resolve) => setTimeout(resolve, processMs));
  if (overlap) {
    await Promise.all([handOver(), process()]);
  } else {
    await handOver();
    await process();
  }
}
