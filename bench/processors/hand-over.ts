// The I/O-bound processors' common tail: hand the next cursor to Baton (when there is one), then
// process for `processMs`, or both at once with `overlap` (see docs/performance.md). `busyUs`
// spends that much CPU between the two, as a runner's own work on the thread would.
import type { PageContext } from 'baton';

export async function handOverAndProcess<Args>(ctx: PageContext<number, Args>, next: number | undefined, processMs: number, overlap = false, busyUs = 0): Promise<void> {
  const handOver = async () => {
    if (next !== undefined) await ctx.enqueueNextPage({ cursor: next });
    if (busyUs > 0) busyWait(busyUs);
  };
  const process = () => new Promise((resolve) => setTimeout(resolve, processMs));
  if (overlap) {
    await Promise.all([handOver(), process()]);
  } else {
    await handOver();
    await process();
  }
}

function busyWait(us: number): void {
  const until = performance.now() + us / 1000;
  while (performance.now() < until);
}
