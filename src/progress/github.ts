/**
 * GitHub Actions workflow commands (`::error file=…,line=…,col=…::message`): under
 * GITHUB_ACTIONS=true, failed jobs and script errors are also written this way, so they
 * show up as annotations on the run and on the changed lines of a pull request.
 */
import type { SourceLocation } from '../errors.js';

export interface Annotation {
  readonly level: 'error' | 'warning' | 'notice';
  readonly message: string;
  readonly title?: string;
  readonly location?: SourceLocation;
}

/** Whether to write annotations: GitHub sets GITHUB_ACTIONS=true in every workflow step. */
export function inGithubActions(env: NodeJS.ProcessEnv): boolean {
  return env.GITHUB_ACTIONS === 'true';
}

/** One workflow-command line (no newline). Properties and message are escaped as the runner expects. */
export function workflowCommand(annotation: Annotation): string {
  const properties: string[] = [];
  const { location } = annotation;
  if (location) {
    properties.push(`file=${escapeProperty(location.file)}`, `line=${location.line}`, `col=${location.column}`);
  }
  if (annotation.title !== undefined) properties.push(`title=${escapeProperty(annotation.title)}`);
  const head = properties.length > 0 ? `${annotation.level} ${properties.join(',')}` : annotation.level;
  return `::${head}::${escapeData(annotation.message)}`;
}

/** A script diagnostic (file:line:column, message, hint) as an annotation, for `comic validate`. */
export function githubAnnotation(diagnostic: SourceLocation & { readonly message: string; readonly hint?: string; readonly severity?: 'error' | 'warning' }): string {
  const { file, line, column } = diagnostic;
  return workflowCommand({
    level: diagnostic.severity === 'warning' ? 'warning' : 'error',
    title: 'comic script',
    message: diagnostic.hint ? `${diagnostic.message}\nhint: ${diagnostic.hint}` : diagnostic.message,
    location: { file, line, column },
  });
}

function escapeData(text: string): string {
  return text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

function escapeProperty(text: string): string {
  return escapeData(text).replace(/:/g, '%3A').replace(/,/g, '%2C');
}
