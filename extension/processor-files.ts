/**
 * Finding what Run Batch can run: page processors (files that call definePageProcessor) and
 * batch specs (*.batch.yaml, *.batch.json). Pure: the CodeLens and the commands use it.
 */

/** Source files that may hold a processor, for workspace.findFiles. */
export const SOURCE_GLOB = '**/*.{ts,mts,cts,js,mjs,cjs}';
/** Batch specs, for workspace.findFiles. */
export const SPEC_GLOB = '**/*.batch.{yaml,yml,json}';
/** Never searched: dependencies, build output and Baton's own folder. */
export const EXCLUDE_GLOB = '{**/node_modules/**,**/.baton/**,**/dist/**,**/out/**,**/.git/**}';
/** Files larger than this are not read when searching (a processor is small). */
export const MAX_SOURCE_BYTES = 512 * 1024;

// definePageProcessor( or definePageProcessor<Cursor, Args>( ; type arguments hold no parentheses in practice.
const CALL = /\bdefinePageProcessor\s*(?:<[^()]*?>)?\s*\(/g;

// export default …, export { x as default }, module.exports = …, exports.default = …
const DEFAULT_EXPORT = /\bexport\s+default\b|\bexport\s*\{[^}]*\bas\s+default\b|\bmodule\.exports\s*=|\bexports\.default\s*=/g;

/**
 * Offsets of each `definePageProcessor(` call in a source text (where a CodeLens goes), leaving
 * out the import line and mentions in comments and strings; none in a file with no default export.
 */
export function findProcessorDefinitions(text: string): number[] {
  const offsets: number[] = [];
  const ignored = commentAndStringRanges(text);
  const inCode = (at: number): boolean => !ignored.some(([from, to]) => at >= from && at < to);
  for (const match of text.matchAll(CALL)) {
    if (inCode(match.index)) offsets.push(match.index);
  }
  // Baton runs a file's default export: a helper that only builds processors runs nothing.
  if (offsets.length === 0 || ![...text.matchAll(DEFAULT_EXPORT)].some((match) => inCode(match.index))) return [];
  return offsets;
}

/** Whether a source text defines a page processor. */
export function isProcessorSource(text: string): boolean {
  return findProcessorDefinitions(text).length > 0;
}

/** Whether a path is a batch spec. */
export function isSpecFile(path: string): boolean {
  return /\.batch\.(ya?ml|json)$/i.test(path);
}

/** Whether a path is a source file that may hold a processor (not a declaration file). */
export function isSourceFile(path: string): boolean {
  return /\.(m|c)?[jt]s$/i.test(path) && !/\.d\.(m|c)?ts$/i.test(path);
}

/** [start, end) of every comment and string literal (template literals as a whole). */
function commentAndStringRanges(text: string): [number, number][] {
  const ranges: [number, number][] = [];
  let i = 0;
  while (i < text.length) {
    const char = text[i];
    const next = text[i + 1];
    if (char === '/' && next === '/') {
      const end = text.indexOf('\n', i);
      ranges.push([i, end < 0 ? text.length : end]);
      i = end < 0 ? text.length : end;
    } else if (char === '/' && next === '*') {
      const end = text.indexOf('*/', i + 2);
      ranges.push([i, end < 0 ? text.length : end + 2]);
      i = end < 0 ? text.length : end + 2;
    } else if (char === '"' || char === "'" || char === '`') {
      const start = i;
      i++;
      while (i < text.length && text[i] !== char) i += text[i] === '\\' ? 2 : 1;
      i++;
      ranges.push([start, i]);
    } else {
      i++;
    }
  }
  return ranges;
}

/** A file's name, and its folder relative to the workspace (nothing at the folder's root). */
export function pickLabel(relativePath: string): { label: string; description: string } {
  const slash = relativePath.lastIndexOf('/');
  return slash < 0 ? { label: relativePath, description: '' } : { label: relativePath.slice(slash + 1), description: relativePath.slice(0, slash) };
}
