import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isBatons, userLocation } from '../../runner/stack-location.js';
import { root } from '../helpers.js';

describe("where in the user's code an error was thrown", () => {
  it('takes the first frame in a file of theirs, in any of the forms V8 writes', () => {
    const stack = [
      "TypeError: Cannot read properties of undefined (reading 'port')",
      '    at node:internal/modules/esm/module_job:234:25',
      '    at Object.load (/home/me/app/node_modules/pg/lib/index.js:10:3)',
      `    at definePageProcessor (${join(root, 'runner', 'processor-api.ts')}:40:9)`,
      '    at file:///home/me/app/lib/conf.ts:2:25',
      '    at /home/me/app/jobs/migrate.ts:7:1',
    ].join('\n');
    expect(userLocation(stack)).toEqual({ file: '/home/me/app/lib/conf.ts', line: 2, column: 25 });
    expect(userLocation('Error: x\n    at run (/home/me/my app/jobs/a b.ts:3:4)')).toEqual({ file: '/home/me/my app/jobs/a b.ts', line: 3, column: 4 });
  });

  it("finds none in a stack of Node's, dependencies' and Baton's frames only, or no stack", () => {
    expect(userLocation('Error: x\n    at node:internal/x:1:1\n    at /a/node_modules/b/c.js:1:1')).toBeNull();
    expect(userLocation(null)).toBeNull();
    expect(userLocation('Error: no frames')).toBeNull();
  });

  it("counts Baton's sources, its build and a job's build folder as Baton's", () => {
    expect(isBatons(join(root, 'runner', 'engine', 'baton.ts'))).toBe(true);
    expect(isBatons(join(root, 'dist', 'runner', 'engine', 'baton.js'))).toBe(true);
    expect(isBatons('/home/me/app/.baton/build/abc/processor.mjs')).toBe(true);
    expect(isBatons(join(root, 'test', 'fixtures', 'plain.js'))).toBe(false);
  });
});
