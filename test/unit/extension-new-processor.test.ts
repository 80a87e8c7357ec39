import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createProcessor, nameProblem, suggestName, templateChoices } from '../../extension/new-processor.js';
import { findProcessorDefinitions } from '../../extension/processor-files.js';
import { renderTemplate } from '../../runner/scaffold.js';
import { tempDir } from '../helpers.js';

describe('New Page Processor', () => {
  it('offers the SQL keyset, file and API templates, each with a name to start from', () => {
    expect(templateChoices().map(({ id, title, suggestedName }) => ({ id, title, suggestedName }))).toEqual([
      { id: 'sql-keyset', title: 'SQL table, keyset pages', suggestedName: 'migrate-table' },
      { id: 'file', title: 'CSV or JSONL file', suggestedName: 'import-file' },
      { id: 'api', title: 'An API call per item', suggestedName: 'call-api' },
    ]);
  });

  it('suggests a name not taken in the folder', () => {
    const folder = tempDir();
    expect(suggestName(folder, 'api')).toBe('call-api');
    writeFileSync(join(folder, 'call-api.ts'), '');
    writeFileSync(join(folder, 'call-api-2.ts'), '');
    expect(suggestName(folder, 'api')).toBe('call-api-3');
  });

  it('explains a name it cannot use while the user types', () => {
    const folder = tempDir();
    writeFileSync(join(folder, 'taken.ts'), '');
    expect(nameProblem(folder, 'migrate-prices', 'sql-keyset')).toBeNull();
    expect(nameProblem(folder, 'jobs/migrate-prices', 'sql-keyset')).toBeNull();
    expect(nameProblem(folder, '', 'sql-keyset')).toMatch(/^Give the processor a name/);
    expect(nameProblem(folder, 'migrate prices', 'sql-keyset')).toMatch(/^Name must be letters, digits/);
    expect(nameProblem(folder, '../outside', 'sql-keyset')).toBe('The name must stay inside the folder: use names and / only, such as jobs/migrate-prices');
    expect(nameProblem(folder, 'taken', 'sql-keyset')).toBe('taken.ts already exists: choose another name');
    expect(nameProblem(folder, 'x', 'no-such-template')).toMatch(/^Template must be one of sql-keyset, file, api/);
  });

  it('writes the template, names the file from the workspace folder, and puts the cursor where the query goes', () => {
    const folder = tempDir();
    writeFileSync(join(folder, 'package.json'), JSON.stringify({ name: 'shop', dependencies: { baton: '^0.1.0' } }));
    const written = createProcessor(folder, 'jobs/migrate-prices', 'sql-keyset');
    expect(written.file).toBe(join(folder, 'jobs', 'migrate-prices.ts'));
    const text = readFileSync(written.file, 'utf8');
    expect(text).toBe(renderTemplate('sql-keyset', { name: 'migrate-prices', file: 'jobs/migrate-prices.ts' }).text);
    expect(text).toContain('baton run jobs/migrate-prices.ts');
    expect(text.slice(written.cursorOffset)).toMatch(/^\/\/ Your query goes here/);
    expect(text.slice(0, written.cursorOffset)).toMatch(/async function fetchPage\([^)]*\)[^{]*\{\n\s*$/);
    expect(findProcessorDefinitions(text)).toHaveLength(1);
    expect(written.needsDependency).toBe(false);
  });

  it('writes JavaScript for a name ending in .js', () => {
    const folder = tempDir();
    const written = createProcessor(folder, 'import.js', 'file');
    expect(written.file).toBe(join(folder, 'import.js'));
    expect(readFileSync(written.file, 'utf8')).not.toMatch(/: (string|number)\b/);
  });

  it('says the project needs the baton dependency when its package.json lacks it', () => {
    const folder = tempDir();
    writeFileSync(join(folder, 'package.json'), JSON.stringify({ name: 'shop' }));
    expect(createProcessor(folder, 'calls', 'api').needsDependency).toBe(true);
  });

  it('never writes over a file', () => {
    const folder = tempDir();
    mkdirSync(join(folder, 'jobs'));
    writeFileSync(join(folder, 'jobs', 'mine.ts'), 'keep me');
    expect(() => createProcessor(folder, 'jobs/mine', 'api')).toThrow('jobs/mine.ts already exists: choose another name');
    expect(readFileSync(join(folder, 'jobs', 'mine.ts'), 'utf8')).toBe('keep me');
    expect(existsSync(join(folder, 'jobs', 'mine.js'))).toBe(false);
  });
});
