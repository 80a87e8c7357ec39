// The orchestration-overhead processor: `chains` chains of `pagesPerChain` pages; a page hands
// Baton its successor and does nothing else.
import { definePageProcessor } from 'baton';

export interface NoopArgs {
  chains: number;
  pagesPerChain: number;
}

export default definePageProcessor<number, NoopArgs>({
  initialPages: ({ chains, pagesPerChain }) => Array.from({ length: chains }, (_, chain) => ({ cursor: chain * pagesPerChain })),
  async run(ctx) {
    const next = ctx.page.cursor + 1;
    if (next % ctx.args.pagesPerChain !== 0) await ctx.enqueueNextPage({ cursor: next });
    return { items: 1 };
  },
});
