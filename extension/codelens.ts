/** A "Run Batch" CodeLens above every definePageProcessor( call of a file with a default export. */
import * as vscode from 'vscode';
import { findProcessorDefinitions } from './processor-files.js';

class RunBatchLenses implements vscode.CodeLensProvider {
  provideCodeLenses(document: vscode.TextDocument): vscode.CodeLens[] {
    return findProcessorDefinitions(document.getText()).map((offset) => {
      const at = document.positionAt(offset);
      return new vscode.CodeLens(new vscode.Range(at, at), { title: '$(play) Run Batch', tooltip: 'Start a job from this page processor', command: 'baton.runBatch', arguments: [document.uri] });
    });
  }
}

export function registerCodeLens(): vscode.Disposable {
  const languages = ['typescript', 'javascript', 'typescriptreact', 'javascriptreact'];
  return vscode.languages.registerCodeLensProvider(
    languages.map((language) => ({ language, scheme: 'file' })),
    new RunBatchLenses(),
  );
}
