/** The job graph: expansion of a Comic into jobs with seeds and content keys, and views of it. */
export * from './types.js';
export { createFileHasher, type PlanContext } from './context.js';
export { planComic, DEFAULT_EXPORTS, RESERVED_PARAMS, type PlanOptions } from './expand.js';
export { createJobGraph } from './graph.js';
export { deriveSeed, jobSeed, SEED_BITS } from './seed.js';
export { renderSize, sizeRuleProblem, SHEET_ASPECT, BACKGROUND_ASPECT, type RenderSize } from './size.js';
export { KEY_SCHEMA, imageKey, pageKey, exportKey } from './key.js';
export { characterTokens, PromptBuilder, type PromptStyle, type PromptCharacter, type PanelPromptInput, type Prompts } from './prompt.js';
export { planJson, PLAN_SCHEMA, type PlanJson, type PlanJsonJob, type PlanJsonReference } from './json.js';
export { planDot } from './dot.js';
export { planTree, describeCounts } from './tree.js';
export { parseExportList } from './exports.js';
