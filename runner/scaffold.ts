/**
 * New page processors from templates: `baton new` and the extension's "New Page Processor".
 * Rendering is pure; writeProcessor only adds the file (it never overwrites one).
 *
 * Template files (runner/templates/*.txt) are TypeScript with a few markers:
 *   {{name}}             the processor's name
 *   {{file}}             the file name, for the run command in the header comment
 *   {{cursor}}           where the editor puts the cursor (the user's query or data access)
 *   {{ts:TEXT}}          TEXT in TypeScript, nothing in JavaScript (type annotations)
 *   {{#ts}} … {{/ts}}    lines, each marker alone on its line, kept only in TypeScript
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, extname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BatonError } from './errors.js';

/** A template `baton new --template <id>` can write. */
export interface TemplateInfo {
  id: string;
  title: string;
  description: string;
}

/** The language a processor file is written in, from its extension. */
export type ProcessorLanguage = 'ts' | 'js';

export interface RenderOptions {
  /** The processor's name (shown in the CLI and panel). */
  name: string;
  /** 'ts' (default) keeps types; 'js' strips them. */
  language?: ProcessorLanguage;
  /** The file name shown in the header's run command. Default `<name>.<language>`. */
  file?: string;
}

export interface RenderedTemplate {
  text: string;
  /** Character offset in `text` where the user writes their query or data access. */
  cursorOffset: number;
}

export interface WrittenProcessor {
  /** Absolute path of the new file. */
  file: string;
  /** Character offset in the file's text where the user writes their query or data access. */
  cursorOffset: number;
  /** True when no package.json at or above the file's folder lists `baton` (`npm install baton`). */
  needsDependency: boolean;
}

/** The default of `baton new --template`. */
export const DEFAULT_TEMPLATE = 'sql-keyset';

const TEMPLATES: readonly (TemplateInfo & { file: string })[] = [
  {
    id: 'sql-keyset',
    title: 'SQL table, keyset pages',
    description: 'Migrate or backfill a SQL table page by page, walking its primary key (WHERE id > cursor ORDER BY id LIMIT size).',
    file: 'sql-keyset.ts.txt',
  },
  {
    id: 'file',
    title: 'CSV or JSONL file',
    description: 'Import a large CSV or JSONL file page by page; each page reads its lines from a byte offset.',
    file: 'file-pages.ts.txt',
  },
  {
    id: 'api',
    title: 'An API call per item',
    description: 'Call an HTTP API once for each item, a page of items at a time, with retries and a rate limit.',
    file: 'api-calls.ts.txt',
  },
];

/** The templates, default first. */
export function listTemplates(): TemplateInfo[] {
  return TEMPLATES.map(({ id, title, description }) => ({ id, title, description }));
}

const here = dirname(fileURLToPath(import.meta.url));

/** runner/templates, seen from runner/ (sources) or dist/runner/ (built). */
function templatesDir(): string {
  const candidates = [join(here, 'templates'), join(here, '..', 'templates'), join(here, '..', '..', 'runner', 'templates')];
  const found = candidates.find((dir) => existsSync(join(dir, TEMPLATES[0]!.file)));
  if (!found) throw new Error(`Baton's processor templates are missing (looked in ${candidates.join(', ')}): reinstall baton`);
  return found;
}

function findTemplate(id: string): TemplateInfo & { file: string } {
  const template = TEMPLATES.find((t) => t.id === id);
  if (!template) {
    throw new BatonError('INVALID_OPTION', `template must be one of ${TEMPLATES.map((t) => t.id).join(', ')}, got ${JSON.stringify(id)}`);
  }
  return template;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

function checkName(name: string): string {
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw new BatonError('INVALID_OPTION', `name must be letters, digits, '.', '_' or '-', starting with a letter or digit, such as migrate-prices, got ${JSON.stringify(name)}`);
  }
  return name;
}

const CURSOR = '{{cursor}}';

/** Renders a template's marked text; exported for tests of the marker rules. */
export function renderTemplateText(source: string, options: Required<RenderOptions>): RenderedTemplate {
  const ts = options.language === 'ts';
  const lines: string[] = [];
  let inTsBlock = false;
  for (const line of source.split('\n')) {
    const marker = line.trim();
    if (marker === '{{#ts}}' || marker === '{{/ts}}') {
      inTsBlock = marker === '{{#ts}}';
      continue;
    }
    if (inTsBlock && !ts) continue;
    lines.push(line);
  }
  const text = lines
    .join('\n')
    .replace(/\{\{ts:(.*?)\}\}/g, (_, kept: string) => (ts ? kept : ''))
    .replace(/\{\{name\}\}/g, options.name)
    .replace(/\{\{file\}\}/g, options.file);
  const cursorOffset = text.indexOf(CURSOR);
  if (cursorOffset < 0 || text.indexOf(CURSOR, cursorOffset + 1) >= 0) throw new Error('a template must hold exactly one {{cursor}} marker');
  const out = text.replace(CURSOR, '');
  const leftover = /\{\{[^}]*\}\}/.exec(out);
  if (leftover) throw new Error(`unknown template marker ${leftover[0]}`);
  return { text: out, cursorOffset };
}

/** A template's text for a processor called `name`, and where the cursor goes. */
export function renderTemplate(id: string, options: RenderOptions): RenderedTemplate {
  const template = findTemplate(id);
  const name = checkName(options.name);
  const language = options.language ?? 'ts';
  const source = readFileSync(join(templatesDir(), template.file), 'utf8');
  return renderTemplateText(source, { name, language, file: options.file ?? `${name}.${language}` });
}

const EXTENSIONS: Record<string, ProcessorLanguage> = { '.ts': 'ts', '.mts': 'ts', '.js': 'js', '.mjs': 'js' };

/**
 * Where `baton new <name>` writes: `<dir>/<name>.ts`, or `<dir>/<name>` when the name already
 * ends in .ts, .mts, .js or .mjs. The name may hold folders (`jobs/migrate`).
 */
export function processorPath(dir: string, name: string): { file: string; name: string; language: ProcessorLanguage } {
  const ext = extname(name);
  const language = EXTENSIONS[ext];
  const file = resolve(dir, language ? name : `${name}.ts`);
  return { file, name: basename(name, language ? ext : ''), language: language ?? 'ts' };
}

/** Writes a new processor from a template; refuses to overwrite a file. */
export function writeProcessor(dir: string, name: string, templateId: string = DEFAULT_TEMPLATE): WrittenProcessor {
  const target = processorPath(dir, name);
  const { text, cursorOffset } = renderTemplate(templateId, { name: target.name, language: target.language, file: shown(target.file) });
  if (existsSync(target.file)) {
    throw new BatonError('INVALID_OPTION', `${shown(target.file)} already exists: choose another name, or move that file aside first`);
  }
  const folder = dirname(target.file);
  try {
    mkdirSync(folder, { recursive: true });
  } catch (error) {
    throw cannotWrite(target.file, folder, error);
  }
  try {
    // 'wx': a file created since the check above is still never overwritten.
    writeFileSync(target.file, text, { flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new BatonError('INVALID_OPTION', `${shown(target.file)} already exists: choose another name, or move that file aside first`);
    }
    throw cannotWrite(target.file, folder, error);
  }
  return { file: target.file, cursorOffset, needsDependency: !hasBatonDependency(dirname(target.file)) };
}

/** Why the processor's file or its folder could not be written, and what to do instead. */
function cannotWrite(file: string, folder: string, error: unknown): BatonError {
  const code = (error as NodeJS.ErrnoException).code;
  const why =
    code === 'EEXIST' || code === 'ENOTDIR'
      ? `a part of ${shown(folder)} is a file, not a folder`
      : code === 'EACCES' || code === 'EPERM'
        ? `no permission to write in ${shown(folder)}`
        : code === 'EROFS'
          ? `${shown(folder)} is on a read-only file system`
          : (error as Error).message;
  return new BatonError('INVALID_OPTION', `cannot write ${shown(file)}: ${why}; choose a folder you can write in (--dir)`, { cause: error });
}

/** Whether the nearest package.json at or above `dir` depends on baton (or is baton). */
export function hasBatonDependency(dir: string): boolean {
  for (let at = resolve(dir); ; at = dirname(at)) {
    const file = join(at, 'package.json');
    if (existsSync(file)) {
      try {
        const pkg = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
        if (pkg.name === 'baton') return true;
        return ['dependencies', 'devDependencies', 'peerDependencies', 'optionalDependencies'].some(
          (field) => typeof pkg[field] === 'object' && pkg[field] !== null && 'baton' in (pkg[field] as object),
        );
      } catch {
        return false;
      }
    }
    if (dirname(at) === at) return false;
  }
}

function shown(file: string): string {
  const rel = relative(process.cwd(), file);
  return rel && !rel.startsWith('..') ? rel : file;
}
