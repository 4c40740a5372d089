/** The comic script: what other layers import. */
export { analyzeScript, loadScript, parseScript, readScriptText, type LoadOptions, type ParseOptions, type ScriptAnalysis } from './parse.js';
export { formatDiagnostic, ScriptError, type Diagnostic, type Severity } from './diagnostics.js';
export {
  describeLayout,
  layoutCellCount,
  layoutRows,
  PRESET_LAYOUTS,
  type PresetLayout,
} from './layouts.js';
export { DEFAULT_TEMPLATE_IDS, formatTemplateRef, parseTemplateRef } from './template-ref.js';
export { TRIM_SIZES } from './page-format.js';
export type * from './model.js';
