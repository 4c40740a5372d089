/**
 * What running a node does in the emulator. No node class is emulated one by one; a node is
 * evaluated generically from its catalogue definition and literal inputs:
 * - every output is an Artifact whose hash covers the class, the literals and the upstream
 *   hashes, so pictures are deterministic in everything upstream of them;
 * - IMAGE/LATENT/MASK outputs carry a size: literal width/height (EmptyLatentImage, EmptyImage,
 *   ImageScale, …), scale_by, padding, an upscale model's factor, a LoadImage'd file's size, or
 *   else the nearest upstream size; batch_size sets the batch;
 * - loaders attach model parts that take VRAM when a computing node uses them;
 * - a node that outputs LATENT/IMAGE and has a `steps` input (or a SIGMAS input from a node
 *   that has one) reports one progress tick per step, `stepMs` apart, and stops on interrupt;
 * - SaveImage/PreviewImage/MaskPreview write real PNGs; SaveImageWebsocket sends them as
 *   binary frames; FailingNode (and faults.failNode) raise.
 */
import { randomInt } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { sha256 } from '../../../src/util/hash.js';
import { stableKey } from './cache.js';
import { withTextChunk } from '../sdapi/png-text.js';
import { INPUT_IMAGE_NODES, type Catalogue, type JsonObject } from './catalogue.js';
import type { Faults, HostileFilenameMode } from './faults.js';
import { imageFacts, renderPng, type Rgb } from './images.js';
import { PyError, frame, pyJson, pyStr, pyTypeName } from './python.js';
import type { ApiPrompt } from './validate.js';
import { modelParts, type ModelRef, type Vram } from './vram.js';
import type { FolderType, Workspace } from './workspace.js';

export interface Geometry {
  readonly width: number;
  readonly height: number;
  readonly batch: number;
}

/** A node output as the emulator tracks it (the stand-in for a tensor or model object). */
export interface Artifact {
  readonly kind: 'artifact';
  readonly type: string;
  readonly hash: string;
  readonly geometry?: Geometry;
  readonly tints: readonly Rgb[];
  readonly models: readonly ModelRef[];
  /** SIGMAS: how many sampling steps they schedule. */
  readonly steps?: number;
  /** UPSCALE_MODEL: the scale factor. */
  readonly upscale?: number;
}

export interface NodeOutput {
  readonly artifacts: readonly Artifact[];
  /** The node's UI output (`executed.output`), null for nodes without one. */
  readonly ui: JsonObject | null;
}

export type PreviewImage = { readonly format: 'jpeg' | 'png'; readonly bytes: Buffer };

/** What a running node may use from the executor. */
export interface NodeContext {
  readonly nodeId: string;
  readonly catalogue: Catalogue;
  readonly workspace: Workspace;
  readonly vram: Vram;
  readonly faults: Faults;
  readonly signal: AbortSignal;
  readonly prompt: ApiPrompt;
  readonly extraData: JsonObject;
  /** extra_data.preview_method asks for sampler previews. */
  readonly previews: boolean;
  /** The random ComfyUI_temp_xxxxx prefix this PreviewImage node keeps for the server's life. */
  tempPrefix(): string;
  /** Raises the interrupt when one is pending (nodes.before_node_execution and the progress hook). */
  checkInterrupt(): void;
  /** One tick of ComfyUI's progress bar for this node. */
  progress(value: number, max: number, preview?: PreviewImage): void;
  /** Renders the sampler preview for this node's picture. */
  renderPreview(spec: { hash: string; geometry: Geometry; tints: readonly Rgb[] }): Promise<Buffer>;
}

const PRIMITIVE_TYPES = new Set(['INT', 'FLOAT', 'STRING', 'BOOLEAN', 'COMBO']);
const SIZED_TYPES = new Set(['IMAGE', 'LATENT', 'MASK']);
/** Outputs that mean "this node computes on the GPU" (so it loads the models it is given). */
const COMPUTED_TYPES = new Set(['IMAGE', 'LATENT', 'MASK', 'CONDITIONING', 'CLIP_VISION_OUTPUT', 'AUDIO', 'VIDEO']);
const DEFAULT_GEOMETRY: Geometry = { width: 512, height: 512, batch: 1 };
const SAMPLER_OUTPUTS = new Set(['LATENT', 'IMAGE']);
const DEFAULT_UPSCALE = 4;

export function isArtifact(value: unknown): value is Artifact {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'artifact';
}

function isSocketType(type: unknown): boolean {
  return typeof type === 'string' && !PRIMITIVE_TYPES.has(type) && !type.startsWith('COMFY_');
}

function positive(value: unknown): number | undefined {
  return typeof value === 'number' && value > 0 ? value : undefined;
}

function scaled(g: Geometry, fx: number, fy = fx): Geometry {
  return { width: Math.max(1, Math.round(g.width * fx)), height: Math.max(1, Math.round(g.height * fy)), batch: g.batch };
}

function upscaleFactor(modelName: string): number {
  const match = /(\d+)x|x(\d+)/i.exec(modelName);
  const factor = Number(match?.[1] ?? match?.[2]);
  return Number.isFinite(factor) && factor > 0 ? factor : DEFAULT_UPSCALE;
}

/** The size rules listed in the module comment, in order. */
function deriveGeometry(literals: JsonObject, linked: ReadonlyArray<[string, Artifact]>): Geometry | undefined {
  const upstream = linked.find(([, a]) => a.geometry !== undefined)?.[1].geometry;
  const width = positive(literals.width);
  const height = positive(literals.height);
  let size: Geometry | undefined;
  if (width !== undefined && height !== undefined) size = { width, height, batch: 1 };
  else if (upstream !== undefined && (width !== undefined || height !== undefined)) {
    size = width !== undefined ? scaled(upstream, width / upstream.width) : scaled(upstream, (height ?? 1) / upstream.height);
  } else if (upstream !== undefined && positive(literals.scale_by) !== undefined) {
    size = scaled(upstream, literals.scale_by as number);
  } else if (upstream !== undefined && ['left', 'top', 'right', 'bottom'].some((k) => typeof literals[k] === 'number')) {
    const pad = (k: string): number => (typeof literals[k] === 'number' ? (literals[k] as number) : 0);
    size = { width: upstream.width + pad('left') + pad('right'), height: upstream.height + pad('top') + pad('bottom'), batch: upstream.batch };
  } else {
    const upscaler = linked.find(([, a]) => a.upscale !== undefined)?.[1].upscale;
    size = upstream !== undefined && upscaler !== undefined ? scaled(upstream, upscaler) : upstream;
  }
  if (size === undefined) return undefined;
  const batch = positive(literals.batch_size) ?? upstream?.batch ?? 1;
  return { width: Math.round(size.width), height: Math.round(size.height), batch: Math.round(batch) };
}

function stepCount(outputs: readonly unknown[], literals: JsonObject, linked: ReadonlyArray<[string, Artifact]>): number {
  if (!outputs.some((t) => typeof t === 'string' && SAMPLER_OUTPUTS.has(t))) return 0;
  const steps = literals.steps;
  if (typeof steps === 'number') {
    const { start_at_step: start, end_at_step: end } = literals;
    if (typeof start === 'number' && typeof end === 'number') return Math.max(0, Math.min(steps, end) - start);
    return Math.max(0, Math.floor(steps));
  }
  return linked.find(([, a]) => a.type === 'SIGMAS' && a.steps !== undefined)?.[1].steps ?? 0;
}

function uniqueTints(tints: readonly Rgb[]): Rgb[] {
  const seen = new Map<string, Rgb>();
  for (const t of tints) seen.set(t.join(','), t);
  return [...seen.values()];
}

/** Model parts this loader node produces, keyed by output type (checkpoint → MODEL/CLIP/VAE). */
function loadedParts(ctx: NodeContext, classType: string, literals: JsonObject, outputs: readonly string[]): Map<string, ModelRef[]> {
  const parts = new Map<string, ModelRef[]>();
  for (const [input, folder] of Object.entries(ctx.catalogue.modelInputs(classType))) {
    const name = literals[input];
    if (typeof name !== 'string') continue;
    for (const [type, ref] of modelParts(folder, name, outputs)) parts.set(type, [...(parts.get(type) ?? []), ref]);
  }
  return parts;
}

function reportedImage(filename: string, subfolder: string, type: FolderType, hostile: HostileFilenameMode | null): JsonObject {
  if (hostile === 'traversal') return { filename: '../../x.png', subfolder, type };
  if (hostile === 'absolute') return { filename: '/abs/x.png', subfolder, type };
  if (hostile === 'subfolder') return { filename, subfolder: '../../escape', type };
  return { filename, subfolder, type };
}

/** SaveImage / PreviewImage / MaskPreview: real PNG files with the prompt in a tEXt chunk. */
async function saveImages(ctx: NodeContext, images: Artifact, prefix: string, type: FolderType): Promise<JsonObject> {
  const { width, height, batch } = images.geometry ?? DEFAULT_GEOMETRY;
  const target = ctx.workspace.savePath(prefix, type, width, height);
  const texts: Array<[string, string]> = [['prompt', pyJson(ctx.prompt)]];
  const pnginfo = ctx.extraData.extra_pnginfo;
  if (typeof pnginfo === 'object' && pnginfo !== null) {
    for (const [key, value] of Object.entries(pnginfo)) texts.push([key, pyJson(value)]);
  }
  const results: JsonObject[] = [];
  for (let index = 0; index < batch; index += 1) {
    const name = `${target.filename.replaceAll('%batch_num%', String(index))}_${String(target.counter + index).padStart(5, '0')}_.png`;
    let png = await renderPng({ hash: `${images.hash}#${index}`, width, height, tints: images.tints }, type === 'output' ? 4 : 1);
    // Each chunk goes right after IHDR, so insert in reverse to keep "prompt" first.
    for (const [key, text] of [...texts].reverse()) png = withTextChunk(png, key, text);
    await writeFile(path.join(target.folder, name), png);
    results.push(reportedImage(name, target.subfolder, type, ctx.faults.hostileFilenames));
  }
  return { images: results };
}

/** SaveImageWebsocket: every image of the batch as a PNG binary frame through the progress bar. */
async function sendImagesOverSocket(ctx: NodeContext, images: Artifact): Promise<void> {
  const { width, height, batch } = images.geometry ?? DEFAULT_GEOMETRY;
  for (let index = 0; index < batch; index += 1) {
    const bytes = await renderPng({ hash: `${images.hash}#${index}`, width, height, tints: images.tints }, 1);
    ctx.checkInterrupt();
    ctx.progress(index, batch, { format: 'png', bytes });
  }
}

async function runSteps(ctx: NodeContext, steps: number, preview: (() => Promise<Buffer>) | undefined): Promise<void> {
  const image = preview === undefined ? undefined : await preview();
  for (let step = 1; step <= steps; step += 1) {
    await sleep(ctx.faults.stepMs, undefined, { signal: ctx.signal });
    ctx.checkInterrupt();
    ctx.progress(step, steps, image === undefined ? undefined : { format: 'jpeg', bytes: image });
  }
}

/** Splits resolved inputs into literals and linked Artifacts; a literal on a socket fails like the real node would. */
function splitInputs(ctx: NodeContext, classType: string, inputs: ReadonlyMap<string, unknown>): { literals: JsonObject; linked: Array<[string, Artifact]> } {
  const literals: JsonObject = {};
  const linked: Array<[string, Artifact]> = [];
  for (const [name, value] of inputs) {
    if (isArtifact(value)) linked.push([name, value]);
    else literals[name] = value;
  }
  for (const [name, info] of ctx.catalogue.inputs(classType)) {
    if (isSocketType(info.type) && Object.hasOwn(literals, name)) {
      throw new PyError('AttributeError', `'${pyTypeName(literals[name])}' object has no attribute 'shape'`);
    }
  }
  return { literals, linked };
}

function raiseIfFailing(ctx: NodeContext, classType: string, literals: JsonObject): void {
  if (ctx.faults.failNode !== null && (ctx.faults.failNode === classType || ctx.faults.failNode === ctx.nodeId)) {
    throw new PyError('RuntimeError', `emulator fault: node ${ctx.nodeId} (${classType}) failed on purpose`);
  }
  if (classType === 'FailingNode') {
    throw new PyError('RuntimeError', pyStr(literals.message ?? 'boom'), [
      frame('/opt/ComfyUI/custom_nodes/slow_progress/__init__.py', 56, 'run', 'raise RuntimeError(message)'),
    ]);
  }
}

/** What this node's picture is: size and reference tints, LoadImage reading its file. */
async function pictureOf(ctx: NodeContext, classType: string, literals: JsonObject, linked: ReadonlyArray<[string, Artifact]>): Promise<{ geometry: Geometry | undefined; tints: Rgb[] }> {
  const tints = uniqueTints(linked.flatMap(([, a]) => a.tints));
  if (!INPUT_IMAGE_NODES.has(classType)) return { geometry: deriveGeometry(literals, linked), tints };
  const file = ctx.workspace.inputPath(pyStr(literals.image));
  if (file === undefined) throw new PyError('FileNotFoundError', `[Errno 2] No such file or directory: ${pyStr(literals.image)}`);
  const facts = await imageFacts(file);
  return { geometry: { width: facts.width, height: facts.height, batch: 1 }, tints: [...tints, facts.mean] };
}

/** UI output: files for the save/preview nodes, binary frames for SaveImageWebsocket. */
async function outputNodeUi(ctx: NodeContext, classType: string, literals: JsonObject, linked: ReadonlyArray<[string, Artifact]>): Promise<JsonObject | null> {
  const images = linked.find(([name]) => name === 'images' || name === 'mask')?.[1];
  if (images === undefined) return null;
  if (classType === 'SaveImage') return saveImages(ctx, images, pyStr(literals.filename_prefix ?? 'ComfyUI'), 'output');
  if (classType === 'PreviewImage' || classType === 'MaskPreview') return saveImages(ctx, images, ctx.tempPrefix(), 'temp');
  if (classType === 'SaveImageWebsocket') await sendImagesOverSocket(ctx, images);
  return null;
}

/** Runs one node on its resolved inputs (literals, and Artifacts for links). */
export async function runNode(ctx: NodeContext, classType: string, inputs: ReadonlyMap<string, unknown>): Promise<NodeOutput> {
  const def = ctx.catalogue.def(classType);
  if (def === undefined) throw new PyError('KeyError', pyStr(classType));
  const { literals, linked } = splitInputs(ctx, classType, inputs);
  raiseIfFailing(ctx, classType, literals);

  const hash = sha256(`${classType}\n${stableKey(literals)}\n${linked.map(([n, a]) => `${n}=${a.hash}`).join('\n')}`);
  const { geometry, tints } = await pictureOf(ctx, classType, literals, linked);
  const outputs = def.output.map((t) => pyStr(t));
  if (def.output_node || outputs.some((t) => COMPUTED_TYPES.has(t))) ctx.vram.load(linked.flatMap(([, a]) => a.models));

  const steps = stepCount(outputs, literals, linked);
  if (steps > 0) {
    const wantsPreview = classType === 'SlowProgress' ? literals.send_preview === true : ctx.previews;
    const pictureGeometry = geometry ?? DEFAULT_GEOMETRY;
    await runSteps(ctx, steps, wantsPreview ? () => ctx.renderPreview({ hash, geometry: pictureGeometry, tints }) : undefined);
  }

  const parts = loadedParts(ctx, classType, literals, outputs);
  const modelName = Object.keys(ctx.catalogue.modelInputs(classType)).map((k) => literals[k]).find((v) => typeof v === 'string');
  const sigmaSteps = typeof literals.steps === 'number' ? literals.steps : linked.find(([, a]) => a.type === 'SIGMAS')?.[1].steps ?? 0;
  const artifacts = outputs.map(
    (type, slot): Artifact => ({
      kind: 'artifact',
      type,
      hash: `${hash}:${slot}`,
      ...(SIZED_TYPES.has(type) && geometry !== undefined ? { geometry } : {}),
      tints,
      // A loader's own parts of this type, plus those passed through (a LoRA keeps its model's).
      models: [...(parts.get(type) ?? []), ...linked.filter(([, a]) => a.type === type).flatMap(([, a]) => a.models)],
      ...(type === 'SIGMAS' ? { steps: sigmaSteps } : {}),
      ...(type === 'UPSCALE_MODEL' && typeof modelName === 'string' ? { upscale: upscaleFactor(modelName) } : {}),
    }),
  );
  return { artifacts, ui: await outputNodeUi(ctx, classType, literals, linked) };
}

const TEMP_LETTERS = 'abcdefghijklmnopqrstupvxyz';

/** PreviewImage's prefix: "ComfyUI_temp_" and five random letters (from the real alphabet, typo included). */
export function newTempPrefix(): string {
  let suffix = '';
  for (let i = 0; i < 5; i += 1) suffix += TEMP_LETTERS[randomInt(TEMP_LETTERS.length)];
  return `ComfyUI_temp_${suffix}`;
}
