import { describe, expect, it } from 'vitest';
import { pinModulePaths } from '../../runner/build/build-processor.js';

const file = '/work/app/lib/rates.ts';

describe('pinModulePaths: a bundled file keeps its own location', () => {
  it('turns import.meta.url, dirname and filename into the file’s own, leaving other import.meta alone', () => {
    expect(pinModulePaths('new URL("./a.json", import.meta.url); import.meta.dirname; import.meta.filename; import.meta.resolve("x");', file)).toBe(
      'new URL("./a.json", "file:///work/app/lib/rates.ts"); "/work/app/lib"; "/work/app/lib/rates.ts"; import.meta.resolve("x");',
    );
  });

  it('declares __dirname and __filename for code that uses them undeclared, on the first line', () => {
    expect(pinModulePaths("const fs = require('fs');\nexports.read = () => fs.readFileSync(__dirname + '/a');\n", file)).toBe(
      'var __dirname = "/work/app/lib"; const fs = require(\'fs\');\nexports.read = () => fs.readFileSync(__dirname + \'/a\');\n',
    );
    expect(pinModulePaths('log(__filename);', file)).toBe('var __filename = "/work/app/lib/rates.ts"; log(__filename);');
  });

  it('keeps a #! line first', () => {
    expect(pinModulePaths('#!/usr/bin/env node\nlog(__dirname);', file)).toBe('#!/usr/bin/env node\nvar __dirname = "/work/app/lib"; log(__dirname);');
  });

  it('leaves a file that declares them itself as it is (but for import.meta)', () => {
    const esm = "import { fileURLToPath } from 'node:url';\nconst __filename = fileURLToPath(import.meta.url);\nlet __dirname = dirname(__filename);\n";
    expect(pinModulePaths(esm, file)).toBe(esm.replace('import.meta.url', '"file:///work/app/lib/rates.ts"'));
    expect(pinModulePaths('function __dirname() {}', file)).toBe('function __dirname() {}');
  });

  it('declares them where TypeScript only declares their type', () => {
    expect(pinModulePaths('declare const __dirname: string;\nlog(__dirname);', file)).toBe('var __dirname = "/work/app/lib"; declare const __dirname: string;\nlog(__dirname);');
  });

  it('changes nothing in a file that uses neither', () => {
    expect(pinModulePaths('export const x = 1;\n', file)).toBe('export const x = 1;\n');
  });
});
