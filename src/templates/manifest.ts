/**
 * The template manifest (`manifest.json` beside `workflow.json`): what a template is, the
 * parameters it takes and where each one goes in the workflow, what it needs from a
 * server, and how it maps onto the SD API fallback. The zod schema checks the shape;
 * `manifestWorkflowProblems` checks that the manifest and its workflow agree.
 */
import semver from 'semver';
import { z } from 'zod';
import { TEMPLATE_ID } from '../script/template-ref.js';
import { findNodes, type ApiWorkflow, isLink } from './workflow.js';

export const TEMPLATE_ROLES = ['character-sheet', 'panel', 'background'] as const;
export const MODEL_FAMILIES = ['sdxl', 'sd15', 'flux', 'flux2', 'qwen-image-edit'] as const;
/** The roles of the images a template takes: the panel's characters (sheets or their own images) and its background. */
export const REFERENCE_ROLES = ['character', 'background'] as const;
export const PARAM_TYPES = ['string', 'int', 'float', 'boolean', 'model', 'image', 'enum'] as const;

const injectTarget = z
  .object({
    /** A node id, or `title:<node title>`. */
    node: z.string().min(1),
    input: z.string().min(1),
  })
  .strict();

const paramBase = {
  description: z.string().default(''),
  inject: z.array(injectTarget).min(1, 'a parameter must be injected somewhere'),
};

const stringParam = z.object({ type: z.literal('string'), default: z.string().optional(), ...paramBase }).strict();
const intParam = z
  .object({
    type: z.literal('int'),
    default: z.number().int().optional(),
    min: z.number().int().optional(),
    max: z.number().int().optional(),
    ...paramBase,
  })
  .strict();
const floatParam = z
  .object({
    type: z.literal('float'),
    default: z.number().optional(),
    min: z.number().optional(),
    max: z.number().optional(),
    ...paramBase,
  })
  .strict();
const booleanParam = z.object({ type: z.literal('boolean'), default: z.boolean().optional(), ...paramBase }).strict();
const modelParam = z
  .object({
    type: z.literal('model'),
    /** The ComfyUI model folder (checkpoints, loras, clip_vision, …): says what kind of file it is. */
    folder: z.string().min(1),
    /** A logical name (`sdxl-base`) or a file name. */
    default: z.string().min(1).optional(),
    ...paramBase,
  })
  .strict();
/**
 * What the builder does to the workflow when an image parameter gets no image (a panel
 * with fewer references than the template has slots): `bypass` removes each node named
 * and connects whatever read its output to what fed its `input` (a ReferenceLatent in a
 * chain passes its conditioning on); `disconnect` removes the link at `input` (an optional
 * input such as TextEncodeQwenImageEditPlus's image2). Nodes that no longer lead to an
 * output are then dropped, so the unused LoadImage is never sent.
 */
const absentRule = z
  .object({
    bypass: z.array(injectTarget).default([]),
    disconnect: z.array(injectTarget).default([]),
  })
  .strict()
  .refine((rule) => rule.bypass.length + rule.disconnect.length > 0, { message: 'absent needs a bypass or a disconnect' });

/** A server-side image file name (the backend uploads the file and passes its name). No default. */
const imageParam = z.object({ type: z.literal('image'), absent: absentRule.optional(), ...paramBase }).strict();
const enumParam = z
  .object({
    type: z.literal('enum'),
    options: z.array(z.union([z.string(), z.number()])).min(1),
    default: z.union([z.string(), z.number()]).optional(),
    ...paramBase,
  })
  .strict();

const paramSpec = z
  .discriminatedUnion('type', [stringParam, intParam, floatParam, booleanParam, modelParam, imageParam, enumParam])
  .superRefine((param, ctx) => {
    if (param.type === 'int' || param.type === 'float') {
      if (param.min !== undefined && param.max !== undefined && param.min > param.max) {
        ctx.addIssue({ code: 'custom', message: `min ${param.min} is greater than max ${param.max}` });
      }
      if (param.default !== undefined && ((param.min !== undefined && param.default < param.min) || (param.max !== undefined && param.default > param.max))) {
        ctx.addIssue({ code: 'custom', path: ['default'], message: `default ${param.default} is outside [${param.min ?? '-∞'}, ${param.max ?? '∞'}]` });
      }
    }
    if (param.type === 'enum' && param.default !== undefined && !param.options.includes(param.default)) {
      ctx.addIssue({ code: 'custom', path: ['default'], message: `default ${JSON.stringify(param.default)} is not one of the options` });
    }
  });

const sizeRule = z
  .object({
    multiple: z.number().int().positive(),
    min: z.number().int().positive(),
    max: z.number().int().positive(),
    pixels: z.number().int().positive(),
  })
  .strict()
  .refine((size) => size.min <= size.max, { message: 'size.min must not exceed size.max' });

/** An SD API request field gets a parameter's value (by name) or a literal. */
const sdapiSource = z.union([z.string().min(1), z.object({ value: z.union([z.string(), z.number(), z.boolean()]) }).strict()]);

const sdapiMapping = z
  .object({
    mode: z.enum(['txt2img', 'img2img']),
    /** Request field (dotted for nesting, e.g. `override_settings.sd_model_checkpoint`) → source. */
    fields: z.record(z.string().min(1), sdapiSource),
    /** Parameters the SD API cannot honour, each with the reason (reported as dropped). */
    unsupported: z.record(z.string().min(1), z.string().min(1)).default({}),
  })
  .strict();

export const manifestSchema = z
  .object({
    $schema: z.string().optional(),
    id: z.string().regex(TEMPLATE_ID, 'an id is letters, digits, ".", "_" and "-", starting with a letter or digit'),
    version: z.string().refine((v) => semver.valid(v) !== null, 'version must be a semver version such as "1.2.0"'),
    description: z.string().min(1),
    role: z.enum(TEMPLATE_ROLES),
    family: z.enum(MODEL_FAMILIES),
    /** Free text for humans: why this family, what the graph does. */
    notes: z.string().optional(),
    size: sizeRule,
    /**
     * How many images of each role the template takes, filled in its image parameters' order
     * (characters first, in the panel's order, then the background). Without it every image
     * parameter takes a character and no background is used.
     */
    references: z
      .object({ character: z.number().int().min(0).default(0), background: z.number().int().min(0).max(1).default(0) })
      .strict()
      .optional(),
    /**
     * How the prompt names the image in slot n (1-based), e.g. "image {n}": the planner writes
     * "Mara (the character in image 1)". Omit it for templates whose model does not read such words.
     */
    referenceLabel: z.string().includes('{n}', { message: 'referenceLabel must contain {n}' }).optional(),
    params: z.record(z.string().regex(/^[a-z][a-z0-9_]*$/i, 'parameter names are identifiers'), paramSpec),
    /** Node refs (id or `title:…`) whose images are the result. */
    outputs: z.array(z.string().min(1)).min(1),
    requires: z
      .object({
        nodes: z.array(z.string().min(1)),
        models: z.array(z.object({ folder: z.string().min(1), name: z.string().min(1) }).strict()).default([]),
      })
      .strict(),
    sdapi: sdapiMapping,
  })
  .strict();

export type Manifest = z.infer<typeof manifestSchema>;
export type ParamSpec = Manifest['params'][string];
export type ParamType = ParamSpec['type'];
export type InjectTarget = ParamSpec['inject'][number];
export type SdapiMapping = Manifest['sdapi'];
export type SdapiSource = SdapiMapping['fields'][string];
export type Requirements = Manifest['requires'];
export type TemplateRole = Manifest['role'];
export type ModelFamily = Manifest['family'];

/** Shape problems as `path: message` lines. */
export function manifestShapeProblems(json: unknown): { manifest: Manifest; problems: [] } | { manifest: null; problems: string[] } {
  const result = manifestSchema.safeParse(json);
  if (result.success) return { manifest: result.data, problems: [] };
  return {
    manifest: null,
    problems: result.error.issues.map((issue) => `${issue.path.length ? issue.path.join('.') : '(manifest)'}: ${issue.message}`),
  };
}

/** Where each injection and output lands, by node id: filled in once the workflow is known. */
export interface ResolvedTargets {
  readonly inject: Readonly<Record<string, readonly { readonly nodeId: string; readonly input: string }[]>>;
  readonly outputs: readonly string[];
  /** For image parameters with an `absent` rule: the nodes to bypass and the inputs to disconnect. */
  readonly absent: Readonly<Record<string, AbsentTargets>>;
}

export interface AbsentTargets {
  readonly bypass: readonly { readonly nodeId: string; readonly input: string }[];
  readonly disconnect: readonly { readonly nodeId: string; readonly input: string }[];
}

/**
 * Checks that the manifest fits its workflow: every inject target and output names exactly
 * one node, every injected input exists on that node and is a value (not a link), the
 * required node classes are exactly those the workflow uses, and the SD API mapping names
 * real parameters and accounts for every one of them.
 */
export function manifestWorkflowProblems(manifest: Manifest, workflow: ApiWorkflow): { targets: ResolvedTargets; problems: string[] } {
  const problems: string[] = [];
  const inject: Record<string, { nodeId: string; input: string }[]> = {};
  const uniqueNode = (ref: string, what: string): string | null => {
    const ids = findNodes(workflow, ref);
    if (ids.length === 1) return ids[0]!;
    const titles = Object.entries(workflow).map(([id, node]) => `${id}${node._meta?.title ? ` "${node._meta.title}"` : ''}`);
    problems.push(
      ids.length === 0
        ? `${what}: no node "${ref}" in the workflow (it has ${titles.join(', ')})`
        : `${what}: "${ref}" matches ${ids.length} nodes (${ids.join(', ')}); give the nodes distinct titles or use a node id`,
    );
    return null;
  };

  for (const [name, param] of Object.entries(manifest.params)) {
    inject[name] = [];
    param.inject.forEach((target, i) => {
      const where = `params.${name}.inject.${i}`;
      const nodeId = uniqueNode(target.node, where);
      if (nodeId === null) return;
      const node = workflow[nodeId]!;
      if (!Object.hasOwn(node.inputs, target.input)) {
        const inputs = Object.keys(node.inputs);
        problems.push(`${where}: node ${nodeId} (${node.class_type}) has no input "${target.input}" (it has ${inputs.join(', ') || 'none'})`);
      } else if (isLink(node.inputs[target.input])) {
        problems.push(`${where}: input "${target.input}" of node ${nodeId} (${node.class_type}) is a link; injecting a value would cut the graph`);
      } else {
        inject[name]!.push({ nodeId, input: target.input });
      }
    });
  }

  const images = Object.entries(manifest.params).filter(([, param]) => param.type === 'image');
  if (manifest.references) {
    const { character, background } = manifest.references;
    if (character > images.length) problems.push(`references.character: ${character} is more than the template's ${images.length} image parameter(s)`);
    if (background > images.length) problems.push(`references.background: ${background} is more than the template's ${images.length} image parameter(s)`);
    if (images.length > 0 && character + background === 0) problems.push('references: the template has image parameters but takes no reference of any role');
  }
  type Targets = { nodeId: string; input: string }[];
  const absent: Record<string, { bypass: Targets; disconnect: Targets }> = {};
  for (const [name, param] of images) {
    if (param.type !== 'image' || !param.absent) continue;
    const resolved: { bypass: Targets; disconnect: Targets } = { bypass: [], disconnect: [] };
    absent[name] = resolved;
    const rules: ['bypass' | 'disconnect', { node: string; input: string }][] = [
      ...param.absent.bypass.map((t): ['bypass', typeof t] => ['bypass', t]),
      ...param.absent.disconnect.map((t): ['disconnect', typeof t] => ['disconnect', t]),
    ];
    rules.forEach(([kind, target], i) => {
      const where = `params.${name}.absent.${kind}.${i}`;
      const nodeId = uniqueNode(target.node, where);
      if (nodeId === null) return;
      const node = workflow[nodeId]!;
      if (!isLink(node.inputs[target.input])) {
        problems.push(`${where}: input "${target.input}" of node ${nodeId} (${node.class_type}) must be a link to ${kind === 'bypass' ? 'pass on' : 'remove'}`);
      } else {
        resolved[kind].push({ nodeId, input: target.input });
      }
    });
  }

  const outputs: string[] = [];
  manifest.outputs.forEach((ref, i) => {
    const nodeId = uniqueNode(ref, `outputs.${i}`);
    if (nodeId !== null) outputs.push(nodeId);
  });

  const used = new Set(Object.values(workflow).map((node) => node.class_type));
  const declared = new Set(manifest.requires.nodes);
  const undeclared = [...used].filter((c) => !declared.has(c)).sort();
  const unused = [...declared].filter((c) => !used.has(c)).sort();
  if (undeclared.length) problems.push(`requires.nodes: the workflow also uses ${undeclared.join(', ')}`);
  if (unused.length) problems.push(`requires.nodes: the workflow does not use ${unused.join(', ')}`);

  problems.push(...sdapiProblems(manifest));
  return { targets: { inject, outputs, absent }, problems };
}

function sdapiProblems(manifest: Manifest): string[] {
  const problems: string[] = [];
  const { fields, unsupported, mode } = manifest.sdapi;
  const mapped = new Set<string>();
  for (const [field, source] of Object.entries(fields)) {
    if (typeof source !== 'string') continue;
    if (!Object.hasOwn(manifest.params, source)) problems.push(`sdapi.fields.${field}: no parameter "${source}"`);
    mapped.add(source);
  }
  for (const name of Object.keys(unsupported)) {
    if (!Object.hasOwn(manifest.params, name)) problems.push(`sdapi.unsupported.${name}: no parameter "${name}"`);
    if (mapped.has(name)) problems.push(`sdapi.unsupported.${name}: the parameter is also mapped in sdapi.fields`);
  }
  const forgotten = Object.keys(manifest.params).filter((name) => !mapped.has(name) && !Object.hasOwn(unsupported, name));
  if (forgotten.length) {
    problems.push(`sdapi: map ${forgotten.join(', ')} in sdapi.fields or list ${forgotten.length > 1 ? 'them' : 'it'} in sdapi.unsupported with a reason`);
  }
  if (mode === 'img2img') {
    const init = fields.init_images;
    const param = typeof init === 'string' ? manifest.params[init] : undefined;
    if (param?.type !== 'image') problems.push('sdapi.fields.init_images: img2img needs init_images mapped to an image parameter');
  }
  return problems;
}
