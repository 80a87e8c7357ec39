import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { listTemplates } from '../../runner/scaffold.js';
import { tempDir } from '../helpers.js';
import { lines, problems, runCli } from './cli-helpers.js';

const templates = listTemplates().map((t) => t.id);

describe('baton new', () => {
  it.each(templates)('writes the %s template, and the processor it writes runs to success out of the box', async (template) => {
    const dir = tempDir();
    const created = await runCli(['new', `from-${template}`, '--template', template], dir);
    expect(created.code).toBe(0);
    expect(created.stdout).toContain(`created from-${template}.ts from the ${template} template`);
    expect(created.stdout).toContain(`baton run from-${template}.ts`);
    expect(existsSync(join(dir, `from-${template}.ts`))).toBe(true);

    const run = await runCli(['run', `from-${template}.ts`, '--job', 'demo', '--json'], dir);
    expect(problems(run.stderr)).toEqual([]);
    expect(run.code).toBe(0);
    const status = JSON.parse(run.stdout) as { state: string; name: string; items: number; pages: { total: number } };
    expect(status.state).toBe('succeeded');
    expect(status.name).toBe(`from-${template}`);
    expect(status.items).toBeGreaterThan(0);
    expect(status.pages.total).toBeGreaterThan(1);
  });

  it('writes JavaScript for a name ending in .js, and it runs to success too', async () => {
    const dir = tempDir();
    for (const template of templates) {
      const created = await runCli(['new', `${template}.js`, '--template', template], dir);
      expect(created.code).toBe(0);
      expect(readFileSync(join(dir, `${template}.js`), 'utf8')).not.toMatch(/^\s*(interface|type) /m);
      const run = await runCli(['run', `${template}.js`, '--job', `js-${template}`], dir);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toMatch(new RegExp(`^job js-${template} succeeded: `, 'm'));
    }
  });

  it('uses the sql-keyset template by default and writes into --dir', async () => {
    const dir = tempDir();
    const created = await runCli(['new', 'migrate', '--dir', 'jobs'], dir);
    expect(created.code).toBe(0);
    // jobs/ did not exist: made, and said, so that a mistyped --dir shows.
    expect(created.stdout).toContain(`created ${join('jobs', 'migrate.ts')} from the sql-keyset template, in a new folder jobs\n`);
    const again = await runCli(['new', 'other', '--dir', 'jobs'], dir);
    expect(again.stdout).toContain(`created ${join('jobs', 'other.ts')} from the sql-keyset template\n`);
    expect(readFileSync(join(dir, 'jobs', 'migrate.ts'), 'utf8')).toContain("name: 'migrate'");
  });

  it('refuses to overwrite an existing file, in one line, leaving it as it was', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'mine.ts'), '// my work\n');
    const result = await runCli(['new', 'mine'], dir);
    expect(result.code).toBe(2);
    expect(lines(result.stderr)).toEqual(['baton: mine.ts already exists: choose another name, or move that file aside first']);
    expect(readFileSync(join(dir, 'mine.ts'), 'utf8')).toBe('// my work\n');
  });

  it('says in one line when it cannot write there: --dir names a file', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'notes.txt'), 'mine\n');
    const result = await runCli(['new', 'q', '--dir', 'notes.txt'], dir);
    expect(result.code).toBe(2);
    expect(lines(result.stderr)).toEqual(['baton: cannot write notes.txt/q.ts: a part of notes.txt is a file, not a folder; choose a folder you can write in (--dir)']);
    expect(readFileSync(join(dir, 'notes.txt'), 'utf8')).toBe('mine\n');
  });

  it('hints at npm install baton only when package.json does not list baton', async () => {
    const without = tempDir();
    writeFileSync(join(without, 'package.json'), JSON.stringify({ name: 'app', dependencies: { pg: '^8' } }));
    expect((await runCli(['new', 'job'], without)).stdout).toContain('npm install baton');

    const withBaton = tempDir();
    writeFileSync(join(withBaton, 'package.json'), JSON.stringify({ name: 'app', dependencies: { baton: '^0.1.0' } }));
    const result = await runCli(['new', 'job'], withBaton);
    expect(result.code).toBe(0);
    expect(result.stdout).not.toContain('npm install');
  });

  it('answers an unknown template with the choices, and a bad name in one line', async () => {
    const dir = tempDir();
    const template = await runCli(['new', 'x', '--template', 'cobol'], dir);
    expect(template.code).toBe(2);
    expect(template.stderr).toContain('Allowed choices are sql-keyset, file, api');
    const name = await runCli(['new', '-bad name'], dir);
    expect(name.code).toBe(2);
    const odd = await runCli(['new', 'bad name'], dir);
    expect(odd.code).toBe(2);
    expect(odd.stderr).toMatch(/^baton: name must be letters, digits/);
  });
});
