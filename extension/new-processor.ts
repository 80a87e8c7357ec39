/**
 * New Page Processor without the UI: the templates of runner/scaffold.ts, a name checked as
 * the user types, and the file written into the workspace. No 'vscode' here.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, relative, sep } from 'node:path';
import { hasBatonDependency, listTemplates, processorPath, renderTemplate, type TemplateInfo, type WrittenProcessor } from '../runner/scaffold.js';

/** A name to offer for each template, so that Enter gives a sensible file. */
const SUGGESTED_NAMES: Record<string, string> = { 'sql-keyset': 'migrate-table', file: 'import-file', api: 'call-api' };

export interface TemplateChoice extends TemplateInfo {
  /** The name the name box starts with. */
  suggestedName: string;
}

/** The templates, default first, as New Page Processor offers them. */
export function templateChoices(): TemplateChoice[] {
  return listTemplates().map((template) => ({ ...template, suggestedName: SUGGESTED_NAMES[template.id] ?? 'my-processor' }));
}

/** The name box's suggestion for a template in a folder: its suggested name, numbered if taken. */
export function suggestName(folder: string, templateId: string): string {
  const base = SUGGESTED_NAMES[templateId] ?? 'my-processor';
  for (let n = 1; ; n++) {
    const name = n === 1 ? base : `${base}-${n}`;
    if (!existsSync(processorPath(folder, name).file)) return name;
  }
}

/** Why a name cannot be used in `folder` (null when it can), as the name box shows it. */
export function nameProblem(folder: string, name: string, templateId: string): string | null {
  const trimmed = name.trim();
  if (trimmed === '') return 'Give the processor a name, such as migrate-prices (folders allowed: jobs/migrate-prices)';
  if (trimmed.includes('\\') || trimmed.split('/').some((part) => part === '..' || part === '.' || part === '')) return 'The name must stay inside the folder: use names and / only, such as jobs/migrate-prices';
  const target = processorPath(folder, trimmed);
  try {
    renderTemplate(templateId, { name: target.name, language: target.language });
  } catch (error) {
    // The runner's words suit the CLI ('baton: name must be…'); a message box starts a sentence.
    const message = (error as Error).message;
    return message.charAt(0).toUpperCase() + message.slice(1);
  }
  if (existsSync(target.file)) return `${shownFrom(folder, target.file)} already exists: choose another name`;
  return null;
}

/**
 * Writes a processor from a template into `folder` (never over a file), its header naming the
 * file relative to that folder. Throws with the reason when it cannot.
 */
export function createProcessor(folder: string, name: string, templateId: string): WrittenProcessor {
  const problem = nameProblem(folder, name, templateId);
  if (problem) throw new Error(problem);
  const target = processorPath(folder, name.trim());
  const { text, cursorOffset } = renderTemplate(templateId, { name: target.name, language: target.language, file: shownFrom(folder, target.file) });
  mkdirSync(dirname(target.file), { recursive: true });
  // 'wx': a file created since the check is still never overwritten.
  writeFileSync(target.file, text, { flag: 'wx' });
  return { file: target.file, cursorOffset, needsDependency: !hasBatonDependency(dirname(target.file)) };
}

/** A path as the user sees it from the workspace folder, with forward slashes. */
function shownFrom(folder: string, file: string): string {
  return relative(folder, file).split(sep).join('/');
}
