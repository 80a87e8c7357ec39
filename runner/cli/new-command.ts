/** `baton new <name>`: writes a page processor from a template. */
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { DEFAULT_TEMPLATE, processorPath, writeProcessor } from '../scaffold.js';
import { shownPath } from '../store/database.js';
import { quoteArg } from './cli-options.js';

/** The options of `baton new`. */
export interface NewCommandOptions {
  /** A template id; default sql-keyset. */
  template?: string;
  /** The folder to write in; default the current folder. */
  dir?: string;
}

/** Writes the processor and says how to run it; returns the exit code. */
export function newCommand(name: string, options: NewCommandOptions): number {
  const template = options.template ?? DEFAULT_TEMPLATE;
  const dir = resolve(options.dir ?? process.cwd());
  // Folders are made as needed; say so, so that a mistyped --dir does not go unnoticed.
  const newFolder = outermostMissing(dirname(processorPath(dir, name).file));
  const written = writeProcessor(dir, name, template);
  const shown = shownPath(written.file);
  const lines = [`created ${shown} from the ${template} template${newFolder ? `, in a new folder ${shownPath(newFolder)}` : ''}`, `run it: baton run ${quoteArg(shown)}`];
  if (written.needsDependency) {
    lines.push("for types and editor help, add baton to this project: npm install baton (processors import from 'baton')");
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}

/** The outermost folder of `folder`'s path that does not exist yet, or null when it exists. */
function outermostMissing(folder: string): string | null {
  let missing: string | null = null;
  for (let at = folder; !existsSync(at); at = dirname(at)) {
    missing = at;
    if (dirname(at) === at) break;
  }
  return missing;
}
