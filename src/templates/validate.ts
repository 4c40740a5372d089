/**
 * `comic templates validate`: can this template run on that server? Builds the workflow with
 * its defaults (placeholders for parameters without one), resolves its models against the
 * server's lists and preflights the result.
 */
import { isComicError } from '../errors.js';
import { buildWorkflow } from './builder.js';
import type { Template } from './loader.js';
import { folderOptions, resolveModel } from './models.js';
import type { ObjectInfo } from './object-info.js';
import { preflight } from './preflight.js';

/** Defaults, plus a stand-in for each parameter that has none (they do not affect what is checked). */
export function sampleParams(template: Template): Record<string, unknown> {
  const params: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(template.params)) {
    if ('default' in spec && spec.default !== undefined) continue;
    params[name] = spec.type === 'image' ? 'comic-reference.png' : spec.type === 'string' ? 'a test prompt' : undefined;
  }
  return params;
}

/** Every reason `template` cannot run on `server`, one line each; empty when it can. */
export function templateServerProblems(template: Template, objectInfo: ObjectInfo, server: string): string[] {
  const problems: string[] = [];
  for (const model of template.requires.models) {
    const options = folderOptions(objectInfo, model.folder);
    if (options === null) continue;
    try {
      resolveModel(model.name, options, { server, folder: model.folder, what: `required by ${template.id}@${template.version}` });
    } catch (error) {
      if (!isComicError(error)) throw error;
      problems.push(`${error.message}${error.hint ? ` — ${error.hint}` : ''}`);
    }
  }
  if (problems.length > 0) return problems;
  try {
    const workflow = buildWorkflow(template, sampleParams(template), { objectInfo, server });
    return preflight(workflow, objectInfo, { server }).map((p) => p.message);
  } catch (error) {
    if (!isComicError(error)) throw error;
    return [`${error.message}${error.hint ? ` — ${error.hint}` : ''}`];
  }
}
