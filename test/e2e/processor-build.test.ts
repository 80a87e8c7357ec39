import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { Baton } from '../../runner/index.js';
import { tempDir } from '../helpers.js';

let baton: Baton | undefined;
afterEach(async () => {
  await baton?.close({ stop: 'now' });
  baton = undefined;
});

const failing = `
import { definePageProcessor } from 'baton';
export default definePageProcessor<number>({
  initialPages: [{ cursor: 0 }, { cursor: 1 }, { cursor: 2 }],
  retry: { maxAttempts: 2, initialDelayMs: 1 },
  async run(ctx) {
    if (ctx.page.cursor === 1) throw new Error('bug: divides by zero');
    return { items: 1 };
  },
});
`;

describe('building processors', () => {
  it('says a folder given as the processor is a folder, naming the processor file in it when there is one', async () => {
    const dir = tempDir();
    baton = await Baton.open({ db: join(dir, '.baton', 'baton.db') });
    const empty = join(dir, 'empty');
    mkdirSync(empty);
    await expect(baton.start({ processor: empty })).rejects.toMatchObject({
      code: 'PROCESSOR_NOT_FOUND',
      message: expect.stringMatching(/^processor \S*empty is a folder, not a file: give the path of a \.ts, \.mts, \.cts, \.js, \.mjs or \.cjs processor file$/),
    });
    const made = join(dir, 'migrate');
    mkdirSync(made);
    writeFileSync(join(made, 'processor.ts'), failing);
    await expect(baton.start({ processor: made })).rejects.toMatchObject({
      code: 'PROCESSOR_NOT_FOUND',
      message: expect.stringMatching(/^processor \S*migrate is a folder, not a file: give its processor file, \S*migrate\/processor\.ts$/),
    });
    expect(await baton.jobs()).toEqual([]);
  });

  it('rebuilds the processor on retry-failed, so a fixed processor repairs the job', async () => {
    const dir = tempDir();
    const processor = join(dir, 'fix-me.ts');
    writeFileSync(processor, failing);
    baton = await Baton.open({ db: join(dir, '.baton', 'baton.db') });
    const job = await baton.start({ processor, jobId: 'repair' });
    expect(await job.done).toMatchObject({ state: 'failed', pages: { succeeded: 2, failed: 1 } });

    writeFileSync(processor, failing.replace("throw new Error('bug: divides by zero')", 'return { items: 10 }'));
    expect(await job.retryFailed()).toBe(1);
    expect(await job.done).toMatchObject({ state: 'succeeded', items: 12, pages: { succeeded: 3, failed: 0 } });
    const attempts = await baton.attempts('repair', { page: 2 });
    expect(attempts.map((a) => a.outcome)).toEqual(['succeeded', 'failed', 'failed']);
    // Two bundles: the broken one and the fixed one.
    expect(readdirSync(join(dir, '.baton', 'build')).filter((f) => f.startsWith('fix-me-'))).toHaveLength(2);
  });

  it('retries one failed page on its own, leaving the others failed', async () => {
    const dir = tempDir();
    const processor = join(dir, 'two-bugs.ts');
    writeFileSync(processor, failing.replace('ctx.page.cursor === 1', 'ctx.page.cursor !== 0'));
    baton = await Baton.open({ db: join(dir, 'baton.db') });
    const job = await baton.start({ processor, jobId: 'one' });
    expect(await job.done).toMatchObject({ state: 'failed', pages: { succeeded: 1, failed: 2 } });
    const [first, second] = (await baton.status('one')).failures;
    writeFileSync(processor, failing.replace("throw new Error('bug: divides by zero')", 'return { items: 5 }'));
    expect(await job.retryFailed({ page: first!.page })).toBe(1);
    expect(await job.done).toMatchObject({ state: 'failed', items: 6, pages: { succeeded: 2, failed: 1 } });
    expect((await baton.status('one')).failures.map((f) => f.page)).toEqual([second!.page]);
  });

  it("runs the failed pages of a job nobody runs, through baton.retryFailed", async () => {
    const dir = tempDir();
    const processor = join(dir, 'later.ts');
    writeFileSync(processor, failing);
    const db = join(dir, 'baton.db');
    const first = await Baton.open({ db });
    expect((await (await first.start({ processor, jobId: 'later' })).done).state).toBe('failed');
    await first.close();

    writeFileSync(processor, failing.replace("throw new Error('bug: divides by zero')", 'return { items: 1 }'));
    baton = await Baton.open({ db });
    const result = await baton.retryFailed('later');
    expect(result).toMatchObject({ ranHere: true, requeued: 1 });
    if (!result.ranHere) throw new Error('expected the job to run here');
    expect(await result.job.done).toMatchObject({ state: 'succeeded', pages: { failed: 0, succeeded: 3 } });
  });

  it("lets a processor anywhere on disk import 'baton', 'baton/sources' and its own TypeScript modules", async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'deep', 'lib'), { recursive: true });
    writeFileSync(join(dir, 'deep', 'lib', 'pricing.ts'), 'export const inflate = (price: number, percent: number): number => Math.round(price * (100 + percent)) / 100;\n');
    writeFileSync(
      join(dir, 'deep', 'inflate.ts'),
      `import { definePageProcessor, NonRetryableError } from 'baton';
import * as sources from 'baton/sources';
import { inflate } from './lib/pricing';

export default definePageProcessor<number, { percent: number }>({
  initialPages: [{ cursor: 100 }],
  async run(ctx) {
    if (typeof sources !== 'object' || typeof NonRetryableError !== 'function') throw new Error('imports missing');
    ctx.log.info(String(inflate(ctx.page.cursor, ctx.args.percent)));
  },
});
`,
    );
    baton = await Baton.open({ db: join(dir, 'baton.db') });
    const job = await baton.start({ processor: join(dir, 'deep', 'inflate.ts'), args: { percent: 5 }, jobId: 'anywhere' });
    expect((await job.done).state).toBe('succeeded');
    expect((await baton.logs('anywhere', 1)).map((line) => line.message)).toEqual(['105']);
  });

  it('gives each of its files its own import.meta (url, dirname, filename) and CommonJS __dirname, as if it ran from source', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'lib'));
    writeFileSync(join(dir, 'lib', 'rates.json'), '{"EUR":1.08}');
    writeFileSync(join(dir, 'lib', 'legacy.js'), "const { readFileSync } = require('node:fs');\nexports.usd = () => JSON.parse(readFileSync(require('node:path').join(__dirname, 'rates.json'), 'utf8')).EUR;\n");
    writeFileSync(
      join(dir, 'lib', 'rates.ts'),
      `import { readFileSync } from 'node:fs';
export const rates = () => JSON.parse(readFileSync(new URL('./rates.json', import.meta.url), 'utf8'));
export const where = () => [import.meta.dirname, import.meta.filename];
`,
    );
    writeFileSync(
      join(dir, 'convert.ts'),
      `import { definePageProcessor } from 'baton';
import { rates, where } from './lib/rates';
import { usd } from './lib/legacy.js';
export default definePageProcessor({
  async run(ctx) {
    ctx.log.info(rates().EUR, usd(), import.meta.url, ...where());
  },
});
`,
    );
    baton = await Baton.open({ db: join(dir, 'baton.db') });
    const job = await baton.start({ processor: join(dir, 'convert.ts'), jobId: 'meta' });
    expect((await job.done).state).toBe('succeeded');
    expect((await baton.logs('meta', 1)).map((line) => line.message)).toEqual([
      `1.08 1.08 ${pathToFileURL(join(dir, 'convert.ts')).href} ${join(dir, 'lib')} ${join(dir, 'lib', 'rates.ts')}`,
    ]);
  });

  it("refuses an import of 'baton/…' that is not for processors", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'p.ts'), "import { x } from 'baton/engine';\nexport default { run() { return x; } };\n");
    baton = await Baton.open({ db: join(dir, 'baton.db') });
    await expect(baton.start({ processor: join(dir, 'p.ts') })).rejects.toMatchObject({
      code: 'PROCESSOR_BUILD_FAILED',
      message: expect.stringContaining("'baton/engine' is not something a processor can import: use 'baton' or 'baton/sources'"),
    });
  });
});
