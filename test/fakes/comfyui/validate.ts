/**
 * POST /prompt validation as ComfyUI 0.8.0 does it (execution.validate_prompt and
 * validate_inputs): the same walk from each output node, the same coercions, the same error
 * types, messages and `node_errors` layout, including its quirks (an inner node's exception is
 * filed under that node with the *caller's* input, and every failing output is appended to the
 * dependent_outputs of every node with errors seen so far).
 */
import type { Catalogue, InputInfo, JsonObject } from './catalogue.js';
import { PyError, frame, pyBool, pyEquals, pyFloat, pyFloatStr, pyInt, pyRepr, pyStr, pyTypeName } from './python.js';

export interface ApiNode {
  class_type: string;
  inputs: Record<string, unknown>;
  [key: string]: unknown;
}
export type ApiPrompt = Record<string, ApiNode>;

export interface ErrorObj {
  type: string;
  message: string;
  details: string;
  extra_info: JsonObject;
}
export interface NodeError {
  errors: ErrorObj[];
  dependent_outputs: string[];
  class_type: string;
}

export type ValidationResult =
  | { readonly ok: true; readonly outputs: string[]; readonly nodeErrors: Record<string, NodeError> }
  | { readonly ok: false; readonly error: ErrorObj; readonly nodeErrors: Record<string, NodeError> };

export interface ValidationEnv {
  readonly catalogue: Catalogue;
  /** LoadImage's own validate function: does the (annotated) name point at an input file? */
  inputFileExists(name: string): boolean;
  /** 0.28.0: an unknown or missing class_type is `missing_node_type` (0.8.0: `invalid_prompt`). */
  readonly missingNodeType?: boolean;
}

interface Verdict {
  valid: boolean;
  errors: ErrorObj[];
}

const EXECUTION_PY = '/opt/ComfyUI/execution.py';
/** V3 dynamic sockets expand into "name.sub" keys; the emulator accepts whatever arrives. */
const DYNAMIC_TYPES = new Set(['COMFY_AUTOGROW_V3', 'COMFY_DYNAMICCOMBO_V3']);
const MATCH_TYPE = 'COMFY_MATCHTYPE_V3';
/** Inputs a node's own validate function takes (their min/max/list checks are skipped). */
const VALIDATE_FUNCTION_INPUTS: Readonly<Record<string, readonly string[]>> = {
  LoadImage: ['image'],
  LoadImageMask: ['image'],
};

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function invalidPrompt(message: string, id: string): ValidationResult {
  return { ok: false, error: { type: 'invalid_prompt', message, details: `Node ID '#${id}'`, extra_info: {} }, nodeErrors: {} };
}

/** validate_node_input: exact match, "*" and match-types accept anything, otherwise comma-separated unions intersect. */
function titleOf(node: unknown): string | null {
  const meta = isPlainObject(node) ? node._meta : undefined;
  return isPlainObject(meta) && typeof meta.title === 'string' ? meta.title : null;
}

/** 0.28.0 (execution.py validate_prompt): the node is named by its title, else its class. */
function missingNodeType(id: string, classType: unknown, title: string | null): ValidationResult {
  const message =
    classType === null
      ? `Node '${title ?? `ID #${id}`}' has no class_type. The workflow may be corrupted or a custom node is missing.`
      : `Node '${title ?? pyStr(classType)}' not found. The custom node may not be installed.`;
  return {
    ok: false,
    error: { type: 'missing_node_type', message, details: `Node ID '#${id}'`, extra_info: { node_id: id, class_type: classType, node_title: title } },
    nodeErrors: {},
  };
}

function typesCompatible(received: unknown, wanted: unknown): boolean {
  if (pyEquals(received, wanted)) return true;
  if (received === '*' || wanted === '*' || received === MATCH_TYPE || wanted === MATCH_TYPE) return true;
  if (typeof received !== 'string' || typeof wanted !== 'string') return false;
  const have = new Set(received.split(',').map((t) => t.trim()));
  return wanted.split(',').some((t) => have.has(t.trim()));
}

/** prompt[key] with Python's dict semantics (only string keys exist). */
function lookupNode(prompt: ApiPrompt, key: unknown): ApiNode {
  if (Array.isArray(key) || isPlainObject(key)) throw new PyError('TypeError', `unhashable type: '${pyTypeName(key)}'`);
  if (typeof key !== 'string' || !Object.hasOwn(prompt, key)) {
    throw new PyError('KeyError', typeof key === 'string' ? pyRepr(key) : pyStr(key), [
      frame(EXECUTION_PY, 818, 'validate_inputs', "o_class_type = prompt[o_id]['class_type']"),
    ]);
  }
  return prompt[key] as ApiNode;
}

/** tuple[index] with Python's rules (negative indexes count from the end). */
function returnTypeAt(types: unknown[], index: unknown): unknown {
  if (typeof index !== 'number' && typeof index !== 'boolean') {
    throw new PyError('TypeError', `tuple indices must be integers or slices, not ${pyTypeName(index)}`);
  }
  const i = Number(index);
  if (!Number.isInteger(i)) throw new PyError('TypeError', 'tuple indices must be integers or slices, not float');
  const at = i < 0 ? types.length + i : i;
  if (at < 0 || at >= types.length) {
    throw new PyError('IndexError', 'tuple index out of range', [
      frame(EXECUTION_PY, 820, 'validate_inputs', 'received_type = r[val[1]]'),
    ]);
  }
  return types[at];
}

function coerce(type: unknown, value: unknown): unknown {
  if (type === 'INT') return pyInt(value);
  if (type === 'FLOAT') return pyFloat(value);
  if (type === 'STRING') return pyStr(value);
  if (type === 'BOOLEAN') return pyBool(value);
  return value;
}

function comboOptions(info: InputInfo): unknown[] | undefined {
  if (Array.isArray(info.type)) return info.type;
  if (info.type === 'COMBO') return Array.isArray(info.options.options) ? info.options.options : [];
  return undefined;
}

class PromptValidator {
  private readonly validated = new Map<string, Verdict>();
  private readonly visiting: string[] = [];

  constructor(
    private readonly prompt: ApiPrompt,
    private readonly env: ValidationEnv,
  ) {}

  get results(): ReadonlyMap<string, Verdict> {
    return this.validated;
  }

  record(id: string, verdict: Verdict): void {
    this.validated.set(id, verdict);
  }

  /** validate_inputs(): may throw a PyError exactly where the real code raises. */
  validate(id: string): Verdict {
    const known = this.validated.get(id);
    if (known !== undefined) return known;
    if (this.visiting.includes(id)) return this.markCycle(id);
    const node = this.prompt[id] as ApiNode;
    if (!isPlainObject(node.inputs)) throw new PyError('KeyError', "'inputs'");
    const inputs = node.inputs;
    const classType = node.class_type;
    const ownValidated = VALIDATE_FUNCTION_INPUTS[classType] ?? [];
    const errors: ErrorObj[] = [];
    let valid = true;

    for (const [name, info] of this.env.catalogue.inputs(classType)) {
      if (typeof info.type === 'string' && DYNAMIC_TYPES.has(info.type)) continue;
      const config = [info.type, info.options];
      if (!Object.hasOwn(inputs, name)) {
        if (info.category === 'required') {
          errors.push({ type: 'required_input_missing', message: 'Required input is missing', details: name, extra_info: { input_name: name } });
        }
        continue;
      }
      let value = inputs[name];
      if (Array.isArray(value)) {
        if (!this.checkLink(id, name, value, config, info, errors)) valid = false;
        continue;
      }
      try {
        if (isPlainObject(value) && Object.hasOwn(value, '__value__')) {
          value = value.__value__;
          inputs[name] = value;
        }
        const coerced = coerce(info.type, value);
        if (coerced !== value) inputs[name] = coerced;
        value = coerced;
      } catch (error) {
        if (!(error instanceof PyError)) throw error;
        errors.push({
          type: 'invalid_input_type',
          message: `Failed to convert an input value to a ${pyStr(info.type)} value`,
          details: `${name}, ${pyStr(value)}, ${error.message}`,
          extra_info: { input_name: name, input_config: config, received_value: value, exception_message: error.message },
        });
        continue;
      }
      if (ownValidated.includes(name)) continue;
      const rangeError = this.checkRange(name, value, info, config);
      if (rangeError !== undefined) {
        errors.push(rangeError);
        continue;
      }
      const listError = this.checkCombo(name, value, info, config);
      if (listError !== undefined) errors.push(listError);
    }

    for (const name of ownValidated) {
      if (!Object.hasOwn(inputs, name)) continue;
      const file = inputs[name];
      if (typeof file === 'string' && this.env.inputFileExists(file)) continue;
      errors.push({
        type: 'custom_validation_failed',
        message: 'Custom validation failed for node',
        details: `${name} - Invalid image file: ${pyStr(file)}`,
        extra_info: { input_name: name },
      });
    }

    // A cycle found further down may already have filed errors for this node: keep them.
    const earlier = this.validated.get(id);
    const verdict = { valid: (earlier?.valid ?? true) && valid && errors.length === 0, errors: [...(earlier?.errors ?? []), ...errors] };
    this.validated.set(id, verdict);
    return verdict;
  }

  /** Every node on the loop gets a dependency_cycle error (upstream's current wording). */
  private markCycle(id: string): Verdict {
    const path = [...this.visiting.slice(this.visiting.indexOf(id)), id];
    const members = [...new Set(path)];
    const details = path.map((n) => `${n} (${(this.prompt[n] as ApiNode).class_type})`).join(' -> ');
    for (const nodeId of members) {
      this.validated.set(nodeId, {
        valid: false,
        errors: [{ type: 'dependency_cycle', message: 'Dependency cycle detected', details, extra_info: { node_id: nodeId, cycle_nodes: members } }],
      });
    }
    return this.validated.get(id) as Verdict;
  }

  /** A linked input: target exists, slot exists, types match, and the source validates. Returns false if invalid. */
  private checkLink(id: string, name: string, link: unknown[], config: unknown[], info: InputInfo, errors: ErrorObj[]): boolean {
    if (link.length !== 2) {
      errors.push({
        type: 'bad_linked_input',
        message: 'Bad linked input, must be a length-2 list of [node_id, slot_index]',
        details: name,
        extra_info: { input_name: name, input_config: config, received_value: link },
      });
      return true;
    }
    const [sourceId, slot] = link;
    const source = lookupNode(this.prompt, sourceId);
    const receivedType = returnTypeAt(this.env.catalogue.returnTypes(source.class_type), slot);
    if (!typesCompatible(receivedType, info.type)) {
      errors.push({
        type: 'return_type_mismatch',
        message: 'Return type mismatch between linked nodes',
        details: `${name}, received_type(${pyStr(receivedType)}) mismatch input_type(${pyStr(info.type)})`,
        extra_info: { input_name: name, input_config: config, received_type: receivedType, linked_node: link },
      });
      return true;
    }
    const source_id = sourceId as string;
    this.visiting.push(id);
    try {
      return this.validate(source_id).valid;
    } catch (error) {
      if (!(error instanceof PyError)) throw error;
      this.validated.set(source_id, {
        valid: false,
        errors: [
          {
            type: 'exception_during_inner_validation',
            message: 'Exception when validating inner node',
            details: error.message,
            extra_info: {
              input_name: name,
              input_config: config,
              exception_message: error.message,
              exception_type: error.pyType,
              traceback: [frame(EXECUTION_PY, 838, 'validate_inputs', 'r = await validate_inputs(prompt_id, prompt, o_id, validated)'), ...error.traceback],
              linked_node: link,
            },
          },
        ],
      });
      return false;
    } finally {
      this.visiting.pop();
    }
  }

  private checkRange(name: string, value: unknown, info: InputInfo, config: unknown[]): ErrorObj | undefined {
    if (typeof value !== 'number') return undefined;
    const show = (n: number): string => (info.type === 'FLOAT' ? pyFloatStr(n) : pyStr(n));
    const { min, max } = info.options;
    if (typeof min === 'number' && value < min) {
      return {
        type: 'value_smaller_than_min',
        message: `Value ${show(value)} smaller than min of ${show(min)}`,
        details: name,
        extra_info: { input_name: name, input_config: config, received_value: value },
      };
    }
    if (typeof max === 'number' && value > max) {
      return {
        type: 'value_bigger_than_max',
        message: `Value ${show(value)} bigger than max of ${show(max)}`,
        details: name,
        extra_info: { input_name: name, input_config: config, received_value: value },
      };
    }
    return undefined;
  }

  private checkCombo(name: string, value: unknown, info: InputInfo, config: unknown[]): ErrorObj | undefined {
    const options = comboOptions(info);
    if (options === undefined) return undefined;
    const values = info.options.multiselect === true && Array.isArray(value) ? value : [value];
    const invalid = values.filter((v) => !options.some((o) => pyEquals(o, v)));
    if (invalid.length === 0) return undefined;
    // The real server leaves long lists (scanned model files) out of the answer.
    const long = options.length > 20;
    return {
      type: 'value_not_in_list',
      message: 'Value not in list',
      details: `${name}: ${invalid.map(pyRepr).join(', ')} not in ${long ? `(list of length ${options.length})` : pyRepr(options)}`,
      extra_info: { input_name: name, input_config: long ? null : config, received_value: value },
    };
  }
}

function includesTarget(targets: unknown, id: string): boolean {
  if (targets === null || targets === undefined) return true;
  if (Array.isArray(targets)) return targets.some((t) => t === id);
  if (typeof targets === 'string') return targets.includes(id);
  if (isPlainObject(targets)) return Object.hasOwn(targets, id);
  throw new PyError('TypeError', `argument of type '${pyTypeName(targets)}' is not iterable`);
}

/**
 * Validates (and coerces, in place) an API prompt. Throws a PyError where the real server
 * crashes with a 500 instead of answering 400.
 */
export function validatePrompt(prompt: unknown, partialTargets: unknown, env: ValidationEnv): ValidationResult {
  const graph: ApiPrompt = Array.isArray(prompt) && prompt.length === 0 ? {} : (prompt as ApiPrompt);
  if (!isPlainObject(graph)) throw new PyError('TypeError', `'${pyTypeName(prompt)}' object is not iterable`);

  const outputs: string[] = [];
  for (const [id, node] of Object.entries(graph)) {
    if (!isPlainObject(node) || !Object.hasOwn(node, 'class_type')) {
      if (env.missingNodeType === true) return missingNodeType(id, null, titleOf(node));
      return invalidPrompt('Cannot execute because a node is missing the class_type property.', id);
    }
    if (!env.catalogue.has(node.class_type)) {
      if (env.missingNodeType === true) return missingNodeType(id, node.class_type, titleOf(node) ?? pyStr(node.class_type));
      return invalidPrompt(`Cannot execute because node ${pyStr(node.class_type)} does not exist.`, id);
    }
    if (env.catalogue.isOutputNode(node.class_type) && includesTarget(partialTargets, id)) outputs.push(id);
  }
  if (outputs.length === 0) {
    return { ok: false, error: { type: 'prompt_no_outputs', message: 'Prompt has no outputs', details: '', extra_info: {} }, nodeErrors: {} };
  }

  const validator = new PromptValidator(graph, env);
  const good: string[] = [];
  const failures: Array<[string, ErrorObj[]]> = [];
  const nodeErrors: Record<string, NodeError> = {};
  for (const output of outputs) {
    let verdict: Verdict;
    try {
      verdict = validator.validate(output);
    } catch (error) {
      if (!(error instanceof PyError)) throw error;
      verdict = {
        valid: false,
        errors: [
          {
            type: 'exception_during_validation',
            message: 'Exception when validating node',
            details: error.message,
            extra_info: {
              exception_type: error.pyType,
              traceback: [frame(EXECUTION_PY, 1043, 'validate_prompt', 'm = await validate_inputs(prompt_id, prompt, o, validated)'), ...error.traceback],
            },
          },
        ],
      };
      validator.record(output, verdict);
    }
    if (verdict.valid) {
      good.push(output);
      continue;
    }
    failures.push([output, verdict.errors]);
    for (const [nodeId, result] of validator.results) {
      if (result.valid || result.errors.length === 0) continue;
      nodeErrors[nodeId] ??= { errors: result.errors, dependent_outputs: [], class_type: (graph[nodeId] as ApiNode).class_type };
      nodeErrors[nodeId].dependent_outputs.push(output);
    }
  }

  if (good.length === 0) {
    const details = failures.flatMap(([, errors]) => errors.map((e) => `${e.message}: ${e.details}`)).join('\n');
    return {
      ok: false,
      error: { type: 'prompt_outputs_failed_validation', message: 'Prompt outputs failed validation', details, extra_info: {} },
      nodeErrors,
    };
  }
  return { ok: true, outputs: good, nodeErrors };
}
