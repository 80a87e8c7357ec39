/**
 * Bundles a user's processor (TypeScript or JavaScript) into one ESM file that a worker thread
 * can import. 'baton' is inlined from this package; the user's own dependencies stay external
 * and are imported from where the processor's folder resolves them, so native modules work.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { isBuiltin } from 'node:module';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build, type Message, type Plugin } from 'esbuild';
import { BatonError, type SourceLocation } from '../errors.js';
import { shownPath } from '../store/database.js';

export interface BuiltProcessor {
  /** Absolute path of the source the user gave. */
  source: string;
  /** Absolute path of the bundle workers import; its name changes when its content does. */
  bundle: string;
}

const here = dirname(fileURLToPath(import.meta.url));

/** The files 'baton' and 'baton/…' mean inside a processor, from sources or from dist alike. */
function processorEntry(specifier: string): string | null {
  const subpath = specifier === 'baton' ? 'processor-api' : specifier === 'baton/sources' ? 'sources/index' : null;
  if (subpath === null) return null;
  for (const ext of ['.js', '.ts']) {
    const file = join(here, '..', subpath + ext);
    if (existsSync(file)) return file;
  }
  return null;
}

const TYPESCRIPT_SOURCE = /\.(c|m)?tsx?$/;

const resolveForRuntime: Plugin = {
  name: 'baton-resolve',
  setup(build) {
    build.onResolve({ filter: /^baton(\/.*)?$/ }, (args) => {
      const file = processorEntry(args.path);
      if (file) return { path: file };
      return { errors: [{ text: `'${args.path}' is not something a processor can import: use 'baton' or 'baton/sources'` }] };
    });
    // Bare specifiers: resolve them from the importing file, then leave them to Node at run
    // time by absolute URL, so the bundle's own folder does not matter.
    build.onResolve({ filter: /^[^./]/ }, async (args) => {
      if (args.pluginData === resolveForRuntime || isBuiltin(args.path) || args.path.startsWith('/')) return undefined;
      const result = await build.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: resolveForRuntime });
      if (result.errors.length > 0) return { errors: result.errors };
      if (result.external || TYPESCRIPT_SOURCE.test(result.path)) return { path: result.path, external: result.external };
      return { path: pathToFileURL(result.path).href, external: true };
    });
  },
};

/** The files a processor may be, as messages list them (.tsx and .jsx are taken too). */
export const PROCESSOR_FILES = '.ts, .mts, .cts, .js, .mjs or .cjs';

const LOADERS = { '.ts': 'ts', '.mts': 'ts', '.cts': 'ts', '.tsx': 'tsx', '.js': 'js', '.mjs': 'js', '.cjs': 'js', '.jsx': 'jsx' } as const;
const IMPORT_META = /\bimport\.meta\.(url|dirname|filename)\b/g;
const PATH_NAMES = ['__dirname', '__filename'] as const;

/**
 * The code of the file at `path` with its own location pinned: `import.meta.url`, `.dirname`
 * and `.filename` as literals, and `__dirname` and `__filename` declared where CommonJS code
 * uses them without declaring them. The declarations go on the first line (after a `#!` line),
 * so that line numbers in stack traces stay the file's own.
 */
export function pinModulePaths(code: string, path: string): string {
  const meta = { url: pathToFileURL(path).href, dirname: dirname(path), filename: path };
  const pinned = code.replace(IMPORT_META, (_, key: keyof typeof meta) => JSON.stringify(meta[key]));
  const values = { __dirname: dirname(path), __filename: path };
  // TypeScript's `declare const __dirname` declares nothing at run time.
  const declared = (name: string) => new RegExp(`(?<!declare\\s+)\\b(?:var|let|const|function|class|import)\\s+${name}\\b|\\bimport\\s*\\{[^}]*\\b${name}\\b`).test(pinned);
  const missing = PATH_NAMES.filter((name) => new RegExp(`\\b${name}\\b`).test(pinned) && !declared(name));
  if (missing.length === 0) return pinned;
  const prelude = `var ${missing.map((name) => `${name} = ${JSON.stringify(values[name])}`).join(', ')}; `;
  const start = pinned.startsWith('#!') ? pinned.indexOf('\n') + 1 : 0;
  return pinned.slice(0, start) + prelude + pinned.slice(start);
}

/**
 * Each bundled file keeps its own location. The bundle runs from .baton/build, and a processor
 * that reads `new URL('./data.json', import.meta.url)`, or `join(__dirname, 'data.json')` in
 * CommonJS, means a file beside its source.
 */
const keepModulePaths: Plugin = {
  name: 'baton-module-paths',
  setup(build) {
    build.onLoad({ filter: /\.(c|m)?[jt]sx?$/ }, async (args) => {
      const code = await readFile(args.path, 'utf8');
      if (!/import\.meta\.|__dirname|__filename/.test(code)) return undefined;
      return { contents: pinModulePaths(code, args.path), loader: LOADERS[extname(args.path) as keyof typeof LOADERS], resolveDir: dirname(args.path) };
    });
  },
};

/** Where esbuild's first error is. */
function buildErrorLocation(source: string, messages: Message[]): SourceLocation | null {
  const at = messages[0]?.location;
  return at ? { file: resolve(dirname(source), at.file), line: at.line, column: at.column + 1 } : null;
}

function formatBuildError(source: string, messages: Message[]): string {
  const first = messages[0];
  if (!first) return 'esbuild reported an error without a message';
  const at = buildErrorLocation(source, messages);
  const where = at ? `${shownPath(at.file)}:${at.line}:${at.column}: ` : '';
  const more = messages.length > 1 ? ` (and ${messages.length - 1} more)` : '';
  return `${where}${first.text}${more}`;
}

/**
 * Where the bundles of a database's jobs go: `.baton/build` beside the database, or `build` in
 * the `.baton` folder that holds it (the default). Never a plain `build` folder beside a
 * database the user keeps in a project's root, where it would mix with the project's own output.
 */
export function buildDirFor(dbPath: string): string {
  const dir = dirname(resolve(dbPath));
  return basename(dir) === '.baton' ? join(dir, 'build') : join(dir, '.baton', 'build');
}

/** The files `baton new` makes a processor in, and the usual entry names: what a folder given as the processor likely means. */
const ENTRY_NAMES = ['processor.ts', 'index.ts', 'processor.mts', 'index.mts', 'processor.js', 'index.js', 'processor.mjs', 'index.mjs'];

/** A folder given as the processor: "does not exist" would send the user looking for a path that is there. */
function folderError(folder: string, shown: string): BatonError {
  const entry = ENTRY_NAMES.find((name) => existsSync(join(folder, name)));
  const fix = entry !== undefined ? `give its processor file, ${shownPath(join(folder, entry))}` : `give the path of a ${PROCESSOR_FILES} processor file`;
  return new BatonError('PROCESSOR_NOT_FOUND', `processor ${shown} is a folder, not a file: ${fix}`);
}

/** Bundles `source` into `outDir`; throws a BatonError that names the file and line on failure. */
export async function buildProcessor(source: string, outDir: string): Promise<BuiltProcessor> {
  const file = resolve(source);
  const shown = shownPath(file);
  if (existsSync(file) && statSync(file).isDirectory()) throw folderError(file, shown);
  if (!existsSync(file) || !statSync(file).isFile()) {
    throw new BatonError('PROCESSOR_NOT_FOUND', `processor ${shown} does not exist: check the path, or create one with \`baton new <name>\``);
  }
  // esbuild would take a .txt or .json as a module whose default export is its text.
  if (!(extname(file) in LOADERS)) {
    throw new BatonError('PROCESSOR_INVALID', `processor ${shown} is not a TypeScript or JavaScript file: a processor is a ${PROCESSOR_FILES} file that exports definePageProcessor({ ... })`);
  }
  let code: string;
  try {
    const result = await build({
      entryPoints: [file],
      absWorkingDir: dirname(file),
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      mainFields: ['main'],
      conditions: ['node'],
      sourcemap: 'inline',
      // The map's paths are relative to the output's folder: without one they would point into it.
      outdir: outDir,
      write: false,
      logLevel: 'silent',
      plugins: [resolveForRuntime, keepModulePaths],
      // Bundled CommonJS code calls require(); give it one that resolves from the bundle.
      banner: { js: "import { createRequire as __batonCreateRequire } from 'node:module'; const require = __batonCreateRequire(import.meta.url);" },
    });
    code = result.outputFiles[0]!.text;
  } catch (error) {
    const messages = (error as { errors?: Message[] }).errors;
    const detail = messages ? formatBuildError(file, messages) : (error as Error).message;
    const location = messages ? buildErrorLocation(file, messages) : null;
    throw new BatonError('PROCESSOR_BUILD_FAILED', `processor ${shown} does not build: ${detail}; fix it and run again`, { cause: error, location });
  }
  const hash = createHash('sha256').update(code).digest('hex').slice(0, 12);
  mkdirSync(outDir, { recursive: true });
  const bundle = join(outDir, `${basename(file, extname(file))}-${hash}.mjs`);
  if (!existsSync(bundle)) writeFileSync(bundle, code);
  return { source: file, bundle };
}
