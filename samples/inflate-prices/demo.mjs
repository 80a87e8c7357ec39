// `npm run demo`: the inflate-prices sample tuned to show live progress for several seconds on
// two cores: 100,000 products, 4 key ranges, pages of 500, and a simulated 150 ms database round
// trip per read and per write. Prices are reset first, so the demo can run again and again.
import { runInflatePrices } from './run.mjs';

process.exitCode = await runInflatePrices({ rows: 100_000, percent: 5, delayMs: 150, parallel: 8, shards: 4, size: 500 });
