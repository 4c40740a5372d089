/**
 * A server's `/object_info`: what node classes it has, their inputs (with types, bounds and
 * COMBO lists) and outputs. Everything here is a pure reading of that JSON; the two COMBO
 * encodings a real server mixes (legacy `[["a","b"], {…}]` and V3 `["COMBO", {options}]`)
 * are hidden behind `comboOptions`.
 */
import { ComicError } from '../errors.js';

/** `[type, options?]`; `type` is a string or, for a legacy COMBO, the list of choices. */
export type InputSpec = readonly [type: string | readonly unknown[], options?: Readonly<Record<string, unknown>>];

export interface NodeDef {
  readonly input?: {
    readonly required?: Readonly<Record<string, InputSpec>>;
    readonly optional?: Readonly<Record<string, InputSpec>>;
    readonly hidden?: Readonly<Record<string, unknown>>;
  };
  readonly input_order?: { readonly required?: readonly string[]; readonly optional?: readonly string[] };
  readonly output?: readonly (string | readonly unknown[])[];
  readonly output_name?: readonly string[];
  readonly name?: string;
  readonly display_name?: string | null;
  readonly output_node?: boolean;
}

export type ObjectInfo = Readonly<Record<string, NodeDef>>;

export interface NodeInput {
  readonly name: string;
  readonly spec: InputSpec;
  readonly required: boolean;
}

/** Types that the editor draws as widgets (values stored in `widgets_values`). */
const WIDGET_TYPES = new Set(['INT', 'FLOAT', 'STRING', 'BOOLEAN', 'COMBO']);

/** Upload options that add a UI-only button widget after the COMBO they belong to. */
export const UPLOAD_OPTIONS = ['image_upload', 'video_upload', 'audio_upload', 'file_upload'] as const;

/** Checks the overall shape only: a map of class name to node definition with an `input` object. */
export function parseObjectInfo(json: unknown, source: string): ObjectInfo {
  if (!isRecord(json)) {
    throw new ComicError('SERVER_PROTOCOL', `the object_info from ${source} is not a JSON object`, {
      hint: 'pass the body of GET /api/object_info from a ComfyUI server',
    });
  }
  for (const [name, def] of Object.entries(json)) {
    if (!isRecord(def) || (def.input !== undefined && !isRecord(def.input))) {
      throw new ComicError('SERVER_PROTOCOL', `the object_info from ${source} has a malformed entry for node class "${name}"`, {
        hint: 'pass the body of GET /api/object_info from a ComfyUI server',
      });
    }
  }
  return json as ObjectInfo;
}

/** Required then optional inputs, in declaration order (the editor's widget order). */
export function nodeInputs(def: NodeDef): NodeInput[] {
  const result: NodeInput[] = [];
  for (const required of [true, false]) {
    const section = required ? def.input?.required : def.input?.optional;
    if (!section) continue;
    const declared = required ? def.input_order?.required : def.input_order?.optional;
    const names = declared ? [...declared, ...Object.keys(section).filter((n) => !declared.includes(n))] : Object.keys(section);
    for (const name of names) {
      const spec = section[name];
      if (Array.isArray(spec)) result.push({ name, spec: spec as unknown as InputSpec, required });
    }
  }
  return result;
}

export function findInput(def: NodeDef, name: string): NodeInput | undefined {
  return nodeInputs(def).find((input) => input.name === name);
}

export function specOptions(spec: InputSpec): Readonly<Record<string, unknown>> {
  const options = spec[1];
  return isRecord(options) ? options : {};
}

/** The input's type name; legacy COMBO lists report "COMBO". */
export function specType(spec: InputSpec): string {
  return typeof spec[0] === 'string' ? spec[0] : 'COMBO';
}

/** The choices of a COMBO input in either encoding, or null when the input is not a COMBO. */
export function comboOptions(spec: InputSpec): string[] | null {
  if (Array.isArray(spec[0])) return spec[0].map(String);
  if (spec[0] === 'COMBO') {
    const options = specOptions(spec).options;
    return Array.isArray(options) ? options.map(String) : [];
  }
  return null;
}

/** Whether the editor draws this input as a widget (and so stores a value for it). */
export function isWidgetSpec(spec: InputSpec): boolean {
  const options = specOptions(spec);
  if (options.forceInput === true || options.defaultInput === true) return false;
  return Array.isArray(spec[0]) || WIDGET_TYPES.has(specType(spec));
}

export function isUploadSpec(spec: InputSpec): boolean {
  const options = specOptions(spec);
  return UPLOAD_OPTIONS.some((key) => options[key] === true);
}

/** The title the editor gives a node that the user did not rename. */
export function defaultTitle(classType: string, def: NodeDef | undefined): string {
  return def?.display_name ?? def?.name ?? classType;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
