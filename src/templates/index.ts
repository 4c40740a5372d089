/**
 * Workflow templates: the registry (built-in and user templates, versions, shadowing), the
 * builder that fills parameters in, per-server preflight, model-name resolution, and the
 * editor-format converter. Other layers import from here.
 */
export type { SizeRule, TemplateInfo, TemplateResolver } from './types.js';
export {
  BUILTIN_TEMPLATES_DIR,
  loadTemplateRegistry,
  type RegistryOptions,
  type TemplateListing,
  type TemplateProblem,
  type TemplateRegistry,
} from './manager.js';
export { loadTemplateDir, MANIFEST_FILE, WORKFLOW_FILE, type LoadResult, type Template, type TemplateSource } from './loader.js';
export type {
  InjectTarget,
  Manifest,
  ModelFamily,
  ParamSpec,
  ParamType,
  Requirements,
  SdapiMapping,
  SdapiSource,
  TemplateRole,
} from './manifest.js';
export { buildWorkflow, describeParam, valueProblem, type BuildOptions } from './builder.js';
export { canonicalModelName, folderOptions, FOLDER_LISTS, MODEL_ALIASES, resolveModel, type ModelContext } from './models.js';
export { folderForInput, preflight, preflightError, type NodeRef, type PreflightOptions, type PreflightProblem } from './preflight.js';
export {
  convertUiWorkflow,
  readWorkflowFile,
  toApiWorkflow,
  VIRTUAL_NODE_TYPES,
  type ConversionResult,
  type WorkflowFileResult,
} from './convert.js';
export { comboOptions, parseObjectInfo, type InputSpec, type NodeDef, type ObjectInfo } from './object-info.js';
export { describeNode, detectWorkflowFormat, findNodes, isLink, type ApiLink, type ApiNode, type ApiWorkflow, type WorkflowFormat } from './workflow.js';
