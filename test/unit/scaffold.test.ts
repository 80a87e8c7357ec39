import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { transformSync } from 'esbuild';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { isBatonError } from '../../runner/errors.js';
import {
  DEFAULT_TEMPLATE,
  hasBatonDependency,
  listTemplates,
  processorPath,
  renderTemplate,
  renderTemplateText,
  writeProcessor,
} from '../../runner/scaffold.js';
import { root, tempDir } from '../helpers.js';

/** The function each template puts the cursor in: where the user's query or data access goes. */
const CURSOR_FUNCTION: Record<string, string> = { 'sql-keyset': 'fetchPage', file: 'saveRecords', api: 'callApi' };

/** The name of the function whose body holds `offset`, by brace depth from its declaration. */
function enclosingFunction(text: string, offset: number): string | null {
  const declarations = [...text.slice(0, offset).matchAll(/^(?:async )?function (\w+)/gm)];
  const last = declarations.at(-1);
  if (!last) return null;
  let depth = 0;
  for (const char of text.slice(last.index, offset)) {
    if (char === '{') depth++;
    else if (char === '}') depth--;
  }
  return depth > 0 ? last[1]! : null;
}

describe('listTemplates', () => {
  it('lists sql-keyset (the default), file and api, each with a title and a description', () => {
    const templates = listTemplates();
    expect(templates.map((t) => t.id)).toEqual(['sql-keyset', 'file', 'api']);
    expect(templates[0]!.id).toBe(DEFAULT_TEMPLATE);
    for (const template of templates) {
      expect(template.title.length).toBeGreaterThan(0);
      expect(template.description.length).toBeGreaterThan(20);
    }
  });
});

describe('renderTemplate', () => {
  it.each(listTemplates().map((t) => t.id))('renders %s with the name and no markers left', (id) => {
    for (const language of ['ts', 'js'] as const) {
      const { text } = renderTemplate(id, { name: 'nightly-sync', language });
      expect(text).toContain("name: 'nightly-sync'");
      expect(text).toContain(`baton run nightly-sync.${language}`);
      expect(text).not.toContain('{{');
      expect(text).toContain('ctx.enqueueNextPage');
      expect(text).toContain('ctx.reportProgress');
      // Imports only 'baton' and Node's builtins: the processor runs with nothing installed.
      for (const [, from] of text.matchAll(/^import .* from '([^']+)';$/gm)) expect(from === 'baton' || from!.startsWith('node:')).toBe(true);
    }
  });

  it.each(listTemplates().map((t) => t.id))("puts the cursor of %s at the start of the user's query, inside its function", (id) => {
    for (const language of ['ts', 'js'] as const) {
      const { text, cursorOffset } = renderTemplate(id, { name: 'x', language });
      expect(text.slice(cursorOffset)).toMatch(/^\/\/ Your (query|work|call) goes here/);
      expect(enclosingFunction(text, cursorOffset)).toBe(CURSOR_FUNCTION[id]);
    }
  });

  it('enqueues the next page before it processes the page', () => {
    for (const { id } of listTemplates()) {
      const { text } = renderTemplate(id, { name: 'x' });
      const run = text.slice(text.indexOf('async run(ctx)'));
      const work = { 'sql-keyset': 'migrateRows(', file: 'saveRecords(', api: 'mapLimit(' }[id]!;
      expect(run.indexOf('ctx.enqueueNextPage')).toBeGreaterThan(0);
      expect(run.indexOf('ctx.enqueueNextPage')).toBeLessThan(run.indexOf(work));
    }
  });

  it('renders JavaScript without type syntax', () => {
    for (const { id } of listTemplates()) {
      const { text } = renderTemplate(id, { name: 'x', language: 'js' });
      expect(() => transformSync(text, { loader: 'js', format: 'esm' })).not.toThrow();
    }
  });

  it('renders TypeScript that type-checks under strict settings against the baton API', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
    const files = listTemplates().map(({ id }) => {
      const file = join(dir, `${id}.ts`);
      writeFileSync(file, renderTemplate(id, { name: id }).text);
      return file;
    });
    const program = ts.createProgram(files, {
      strict: true,
      noUncheckedIndexedAccess: true,
      noImplicitOverride: true,
      noUnusedLocals: true,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      lib: ['lib.es2023.d.ts'],
      types: ['node'],
      typeRoots: [join(root, 'node_modules', '@types')],
      paths: { baton: [join(root, 'runner', 'index.ts')] },
      skipLibCheck: true,
      noEmit: true,
    });
    const diagnostics = ts.getPreEmitDiagnostics(program).filter((d) => d.file && files.includes(d.file.fileName));
    const shown = diagnostics.map((d) => `${d.file!.fileName}:${d.file!.getLineAndCharacterOfPosition(d.start ?? 0).line + 1}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
    expect(shown).toEqual([]);
  });

  it('refuses an unknown template and a name that is not a plain file name', () => {
    expect(() => renderTemplate('cobol', { name: 'x' })).toThrow(/template must be one of sql-keyset, file, api, got "cobol"/);
    expect(() => renderTemplate('api', { name: 'two words' })).toThrow(/name must be letters, digits/);
  });
});

describe('renderTemplateText', () => {
  const source = [
    '// {{name}} in {{file}}',
    '{{#ts}}',
    'type Id = number;',
    '{{/ts}}',
    'function f(id{{ts:: Id}}){{ts:: void}} {',
    '  {{cursor}}return;',
    '}',
  ].join('\n');

  it('keeps TypeScript-only text in TypeScript and the cursor where the marker was', () => {
    const out = renderTemplateText(source, { name: 'a', language: 'ts', file: 'a.ts' });
    expect(out.text).toBe('// a in a.ts\ntype Id = number;\nfunction f(id: Id): void {\n  return;\n}');
    expect(out.text.slice(out.cursorOffset)).toBe('return;\n}');
  });

  it('drops TypeScript-only lines and annotations in JavaScript', () => {
    const out = renderTemplateText(source, { name: 'a', language: 'js', file: 'a.js' });
    expect(out.text).toBe('// a in a.js\nfunction f(id) {\n  return;\n}');
    expect(out.text.slice(out.cursorOffset)).toBe('return;\n}');
  });

  it('requires exactly one cursor marker and no unknown markers', () => {
    expect(() => renderTemplateText('no cursor', { name: 'a', language: 'ts', file: 'a.ts' })).toThrow(/exactly one \{\{cursor\}\}/);
    expect(() => renderTemplateText('{{cursor}}{{nope}}', { name: 'a', language: 'ts', file: 'a.ts' })).toThrow(/unknown template marker \{\{nope\}\}/);
  });
});

describe('writeProcessor', () => {
  it('writes <name>.ts with the rendered text and returns where the cursor goes', () => {
    const dir = tempDir();
    const written = writeProcessor(dir, 'migrate', 'sql-keyset');
    expect(written.file).toBe(join(dir, 'migrate.ts'));
    const text = readFileSync(written.file, 'utf8');
    expect(text).toBe(renderTemplate('sql-keyset', { name: 'migrate', file: written.file }).text);
    expect(enclosingFunction(text, written.cursorOffset)).toBe('fetchPage');
  });

  it('uses a name ending in .ts or .js as is, and may write into a new subfolder', () => {
    expect(processorPath('/w', 'a.ts')).toEqual({ file: '/w/a.ts', name: 'a', language: 'ts' });
    expect(processorPath('/w', 'a.js')).toEqual({ file: '/w/a.js', name: 'a', language: 'js' });
    expect(processorPath('/w', 'jobs/a')).toEqual({ file: '/w/jobs/a.ts', name: 'a', language: 'ts' });
    const dir = tempDir();
    const written = writeProcessor(dir, 'jobs/import.js', 'file');
    expect(written.file).toBe(join(dir, 'jobs', 'import.js'));
    expect(readFileSync(written.file, 'utf8')).toContain("name: 'import'");
  });

  it('refuses to overwrite an existing file with an INVALID_OPTION error naming it', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'taken.ts'), 'mine');
    let caught: unknown;
    try {
      writeProcessor(dir, 'taken', 'api');
    } catch (error) {
      caught = error;
    }
    expect(isBatonError(caught, 'INVALID_OPTION')).toBe(true);
    expect((caught as Error).message).toMatch(/taken\.ts already exists: choose another name/);
    expect(readFileSync(join(dir, 'taken.ts'), 'utf8')).toBe('mine');
  });

  it('says a dependency is needed unless the nearest package.json lists baton', () => {
    const bare = tempDir();
    expect(writeProcessor(bare, 'a').needsDependency).toBe(true);
    const app = tempDir();
    writeFileSync(join(app, 'package.json'), JSON.stringify({ devDependencies: { baton: '*' } }));
    expect(writeProcessor(join(app, 'src'), 'a').needsDependency).toBe(false);
    expect(hasBatonDependency(root)).toBe(true);
  });
});
