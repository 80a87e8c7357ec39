/**
 * `baton run` on a real terminal: a pseudo-terminal from util-linux's `script`, its output read
 * back through a terminal emulator (xterm.js, headless), so the test sees the screen a user sees.
 */
import { spawn } from 'node:child_process';
import { Terminal } from '@xterm/headless';
import { describe, expect, it } from 'vitest';
import { fixture, tempDir } from '../helpers.js';
import { cliPath } from './cli-helpers.js';

const COLUMNS = 200;

/** Runs `baton <args>` on a pseudo-terminal of COLUMNS columns; resolves with the exit code and the screen's lines. */
function runOnTerminal(args: string[], cwd: string): Promise<{ code: number | null; screen: string[] }> {
  const quote = (value: string) => `'${value.replaceAll("'", "'\\''")}'`;
  const command = `stty cols ${COLUMNS} rows 50; exec ${[process.execPath, cliPath, ...args].map(quote).join(' ')}`;
  const child = spawn('script', ['--quiet', '--return', '--command', command, '/dev/null'], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  const terminal = new Terminal({ cols: COLUMNS, rows: 50, scrollback: 1000, allowProposedApi: true });
  const written: Promise<void>[] = [];
  child.stdout.on('data', (chunk: Buffer) => written.push(new Promise((resolve) => terminal.write(chunk, resolve))));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', async (code) => {
      await Promise.all(written);
      const buffer = terminal.buffer.active;
      const screen: string[] = [];
      for (let y = 0; y < buffer.length; y++) {
        const line = buffer.getLine(y);
        const text = line?.translateToString(true) ?? '';
        // A line the terminal wrapped is one line.
        if (line?.isWrapped && screen.length > 0) screen[screen.length - 1] += text;
        else screen.push(text);
      }
      while (screen.at(-1) === '') screen.pop();
      resolve({ code, screen });
    });
  });
}

describe('baton run on a terminal', () => {
  it("prints the processor's lines above the progress bar, each on a line of its own (a long one wrapped, not cut), and leaves the last bar and the summary below them", async () => {
    const { code, screen } = await runOnTerminal(['run', fixture('prints-slowly.ts'), '--job', 'on-tty', '--parallel', '4'], tempDir());
    expect(code).toBe(0);
    const printed = [...Array(12).keys()].flatMap((n) => [`page ${n} says hello`, `page ${n} warns`, `page ${n} writes in two parts, and this is the second`]);
    printed.push(`page 5's long line: ${'é'.repeat(300)}`);
    const bars = screen.filter((line) => line.includes('items/s'));
    // One bar left on the screen: the last one, whole, after every printed line.
    expect(bars).toHaveLength(1);
    expect(bars[0]).toMatch(/^█{24} 100\.0% \| SUCCEEDED \| 12\/12 items \| .* \| in flight 0\/4$/);
    expect(screen.at(-2)).toBe(bars[0]);
    expect(screen.at(-1)).toMatch(/^job on-tty succeeded: 12 items, 12 pages \(12 ok\), 12 attempts, /);
    expect(screen.slice(0, -2).sort()).toEqual(printed.sort());
  }, 60_000);
});
