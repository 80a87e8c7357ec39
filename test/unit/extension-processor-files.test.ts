import { describe, expect, it } from 'vitest';
import { findProcessorDefinitions, isProcessorSource, isSourceFile, isSpecFile, pickLabel } from '../../extension/processor-files.js';
import { listTemplates, renderTemplate } from '../../runner/scaffold.js';

describe('finding definePageProcessor calls (CodeLens "Run Batch", Run Batch\'s quick pick)', () => {
  it('finds the call, with or without type arguments, and not the import', () => {
    const text = [
      "import { definePageProcessor } from 'baton';",
      'export default definePageProcessor<[number, number], Args>({',
      '  run() {},',
      '});',
      'export const other = definePageProcessor ({ run() {} });',
    ].join('\n');
    const offsets = findProcessorDefinitions(text);
    expect(offsets).toHaveLength(2);
    expect(text.slice(offsets[0]!)).toMatch(/^definePageProcessor<\[number, number\], Args>\(/);
    expect(text.slice(offsets[1]!)).toMatch(/^definePageProcessor \(/);
  });

  it('leaves out calls in comments and strings', () => {
    const text = [
      '// definePageProcessor({ ... }) is how you write one',
      '/* definePageProcessor({}) */',
      "const help = 'definePageProcessor(';",
      'const not = 1;',
    ].join('\n');
    expect(findProcessorDefinitions(text)).toEqual([]);
    expect(isProcessorSource(text)).toBe(false);
  });

  it('finds none in a file with no default export, which Baton could not run', () => {
    const helper = ["import { definePageProcessor } from 'baton';", 'export const make = () => definePageProcessor({ run() {} });'].join('\n');
    expect(findProcessorDefinitions(helper)).toEqual([]);
    expect(isProcessorSource(`${helper}\n// export default make();`)).toBe(false);
    const named = 'const p = definePageProcessor({ run() {} });\nexport { p as default };';
    expect(findProcessorDefinitions(named)).toHaveLength(1);
    expect(isProcessorSource('const p = definePageProcessor({ run() {} });\nmodule.exports = p;')).toBe(true);
    expect(isProcessorSource('exports.default = definePageProcessor({ run() {} });')).toBe(true);
  });

  it('finds exactly one in every processor template', () => {
    for (const { id } of listTemplates()) {
      expect(findProcessorDefinitions(renderTemplate(id, { name: 'x' }).text), id).toHaveLength(1);
      expect(findProcessorDefinitions(renderTemplate(id, { name: 'x', language: 'js' }).text), id).toHaveLength(1);
    }
  });
});

describe('which files Run Batch looks at', () => {
  it('takes TypeScript and JavaScript sources, but not declaration files', () => {
    expect(['a.ts', 'a.mts', 'a.cts', 'a.js', 'a.mjs', 'a.cjs'].every(isSourceFile)).toBe(true);
    expect(isSourceFile('a.d.ts')).toBe(false);
    expect(isSourceFile('a.json')).toBe(false);
  });

  it('takes batch specs in YAML or JSON', () => {
    expect(isSpecFile('/w/nightly.batch.yaml')).toBe(true);
    expect(isSpecFile('/w/nightly.batch.yml')).toBe(true);
    expect(isSpecFile('/w/nightly.batch.json')).toBe(true);
    expect(isSpecFile('/w/package.json')).toBe(false);
  });
});

describe("Run Batch's list of files", () => {
  it('names each file, with its folder in the workspace beside it, and no folder for one at the root', () => {
    expect(pickLabel('flaky.ts')).toEqual({ label: 'flaky.ts', description: '' });
    expect(pickLabel('jobs/prices/inflate.ts')).toEqual({ label: 'inflate.ts', description: 'jobs/prices' });
  });
});
