// Runs each sample's one command (samples/*/run.mjs) as a user would, on small data kept in a
// temporary folder (--data): the real CLI, a real job, and the sample's own check at the end.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Baton } from '../../runner/index.js';
import { root, tempDir, waitFor } from '../helpers.js';

interface Finished {
  code: number | null;
  output: string;
}

function runSample(name: string, args: string[]): Promise<Finished> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(root, 'samples', name, 'run.mjs'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

describe('the samples, each run with one command', () => {
  it('inflate-prices: inflates every product once, and keeps its shop and Baton database in --data', async () => {
    const data = tempDir();
    const { code, output } = await runSample('inflate-prices', ['--rows', '2000', '--delay-ms', '0', '--size', '100', '--data', data]);
    expect(output).toContain('every product inflated exactly once');
    expect(output).toMatch(/job inflate-prices-\S+ succeeded: 2,000 items/);
    expect(code).toBe(0);
    expect(existsSync(join(data, 'shop.db'))).toBe(true);
    expect(existsSync(join(data, 'baton.db'))).toBe(true);
  });

  it('csv-import: imports every row of both files into the --data folder', async () => {
    const data = tempDir();
    const { code, output } = await runSample('csv-import', ['--csv-rows', '700', '--jsonl-rows', '300', '--size', '200', '--data', data]);
    expect(output).toContain('imported.db holds 1,000 customers of these files');
    expect(output).toContain('every customer imported');
    expect(code).toBe(0);
    expect(existsSync(join(data, 'imported.db'))).toBe(true);
  });

  it('csv-import: checks the customers of the files it imported, when an earlier run with more rows left its own in imported.db', async () => {
    const data = tempDir();
    expect((await runSample('csv-import', ['--csv-rows', '300', '--jsonl-rows', '100', '--data', data])).code).toBe(0);
    const { code, output } = await runSample('csv-import', ['--csv-rows', '120', '--jsonl-rows', '30', '--data', data]);
    expect(output).toContain('imported.db holds 150 customers of these files');
    expect(output).toContain('and 250 more left by an earlier run with more rows: every customer imported');
    expect(code).toBe(0);
  });

  it('api-calls: notifies every customer of its local API under the rate limit', async () => {
    const data = tempDir();
    const { code, output } = await runSample('api-calls', ['--customers', '200', '--rate', '400', '--data', data]);
    expect(output).toContain('every customer notified');
    expect(output).toContain('(limit 400/s)');
    expect(code).toBe(0);
  });

  it('api-calls: cancels the job a Ctrl-C paused, since the API it calls stopped with the script, and says how to start over', async () => {
    const data = tempDir();
    // Slow enough to be still running when the Ctrl-C comes.
    const child = spawn(process.execPath, [join(root, 'samples', 'api-calls', 'run.mjs'), '--customers', '2000', '--rate', '20', '--data', data], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
    await waitFor(() => / running \d/.test(output), 30_000, 'the job to run');
    // A terminal's Ctrl-C reaches the whole process group: the script and the CLI.
    process.kill(-child.pid!, 'SIGINT');
    expect(await closed).toBe(130);

    const jobId = /so job (\S+) cannot be resumed: cancelled it; run `node samples\/api-calls\/run.mjs` again to start over/.exec(output)?.[1];
    expect(jobId, output).toBeDefined();
    const baton = await Baton.open({ db: join(data, 'baton.db') });
    try {
      expect((await baton.status(jobId!)).state).toBe('cancelled');
    } finally {
      await baton.close();
    }
  });

  it('names a mistaken option in one line, with the usage, and exits 2', async () => {
    const unknown = await runSample('inflate-prices', ['--rowz', '10']);
    expect(unknown.code).toBe(2);
    expect(unknown.output).toContain("Unknown option '--rowz'");
    expect(unknown.output).toContain('usage: node samples/inflate-prices/run.mjs [--rows 100000]');
    const notNumber = await runSample('api-calls', ['--rate', 'fast']);
    expect(notNumber.code).toBe(2);
    expect(notNumber.output).toContain('--rate must be a number > 0, got "fast"');
  });

  it('refuses a count of 0 or a fraction where it makes no sense, before running anything', async () => {
    for (const [sample, flag, value] of [
      ['inflate-prices', '--parallel', '0'],
      ['inflate-prices', '--shards', '0'],
      ['inflate-prices', '--size', '1.5'],
      ['csv-import', '--size', '0'],
      ['api-calls', '--parallel', '0'],
      ['api-calls', '--rate', '0'],
    ] as const) {
      const data = tempDir();
      const result = await runSample(sample, [flag, value, '--data', data]);
      const what = flag === '--rate' ? 'a number > 0' : 'an integer >= 1';
      expect([result.code, result.output.split('\n')[0]], `${sample} ${flag} ${value}`).toEqual([2, `${flag} must be ${what}, got "${value}"`]);
      expect(existsSync(join(data, 'baton.db'))).toBe(false);
    }
  });

  it('prints no verdict of its own when the CLI refused to run the job', async () => {
    const data = tempDir();
    // Past the CLI's cap on --parallel: the sample takes it, the CLI refuses it.
    const { code, output } = await runSample('inflate-prices', ['--rows', '100', '--parallel', '2000000', '--data', data]);
    expect(code).toBe(2);
    expect(output).toContain('baton: --parallel must be at most 1000000');
    expect(output).not.toMatch(/average price .* ->/);
    expect(output).not.toContain('inflated');
  });
});
