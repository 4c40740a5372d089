/**
 * A structural check of an API-format workflow against a server's node catalogue
 * (/object_info), the way the server's own validation sees the graph (ComfyUI
 * execution.py `validate_prompt`: only the output nodes and what they depend on are
 * validated): every node class exists, every required input of a node an output needs is
 * given (a value or a link), and every link comes from an output whose type the input
 * accepts. Values themselves (COMBO lists, bounds) are left to
 * preflight.ts, which knows about models.
 *
 * Dynamic inputs of the V3 node schema are understood: a `COMFY_DYNAMICCOMBO_V3` input
 * requires the inputs of the option chosen (`<combo>.<input>`), a `COMFY_AUTOGROW_V3` input
 * is satisfied by its `min` numbered inputs (`<name>.<prefix><n>`), a `COMFY_MATCHTYPE_V3`
 * socket takes any of its allowed types. Every problem names the node (id, title, class)
 * and the input.
 */
import { isRecord, nodeInputs, specOptions, specType, type InputSpec, type NodeDef, type ObjectInfo } from './object-info.js';
import { describeNode, isLink, type ApiWorkflow } from './workflow.js';

interface Expected {
  readonly name: string;
  readonly spec: InputSpec;
  readonly required: boolean;
}

export function structuralProblems(workflow: ApiWorkflow, objectInfo: ObjectInfo): string[] {
  const problems: string[] = [];
  const needed = neededNodes(workflow, objectInfo);
  for (const [id, node] of Object.entries(workflow)) {
    const at = `node ${describeNode(id, node)}`;
    const def = objectInfo[node.class_type];
    if (!def) {
      problems.push(`${at}: the server has no node class "${node.class_type}"`);
      continue;
    }
    if (!needed.has(id)) continue;
    for (const input of expectedInputs(def, node.inputs)) {
      const value = node.inputs[input.name];
      const type = specType(input.spec);
      if (type === 'COMFY_AUTOGROW_V3') {
        const min = numberOption(specOptions(input.spec).template, 'min') ?? 0;
        const given = Object.keys(node.inputs).filter((name) => name.startsWith(`${input.name}.`)).length;
        if (input.required && given < min) problems.push(`${at}: input "${input.name}" needs at least ${min} connected input(s), has ${given}`);
        continue;
      }
      if (value === undefined) {
        if (input.required) problems.push(`${at}: required input "${input.name}" (${typeName(input.spec)}) is missing`);
        continue;
      }
      if (!isLink(value)) continue;
      const origin = workflow[value[0]];
      if (!origin) {
        problems.push(`${at}: input "${input.name}" is linked to node ${value[0]}, which is not in the workflow`);
        continue;
      }
      const originDef = objectInfo[origin.class_type];
      if (!originDef) continue;
      const output = originDef.output?.[value[1]];
      if (output === undefined) {
        problems.push(`${at}: input "${input.name}" is linked to output ${value[1]} of ${describeNode(value[0], origin)}, which has only ${originDef.output?.length ?? 0} output(s)`);
        continue;
      }
      const outputType = typeof output === 'string' ? output : 'COMBO';
      if (!accepts(input.spec, outputType)) {
        problems.push(`${at}: input "${input.name}" (${typeName(input.spec)}) is linked to output ${value[1]} (${outputType}) of ${describeNode(value[0], origin)}`);
      }
    }
  }
  return problems;
}

/** The output nodes and every node they depend on through links. */
function neededNodes(workflow: ApiWorkflow, objectInfo: ObjectInfo): Set<string> {
  const needed = new Set<string>();
  const visit = (id: string) => {
    if (needed.has(id) || !workflow[id]) return;
    needed.add(id);
    for (const value of Object.values(workflow[id]!.inputs)) if (isLink(value)) visit(value[0]);
  };
  for (const [id, node] of Object.entries(workflow)) if (objectInfo[node.class_type]?.output_node === true) visit(id);
  return needed;
}

/** The inputs a node of this class takes given its values, dynamic ones expanded. */
function expectedInputs(def: NodeDef, given: Readonly<Record<string, unknown>>): Expected[] {
  const result: Expected[] = [];
  const add = (name: string, spec: InputSpec, required: boolean) => {
    result.push({ name, spec, required });
    if (specType(spec) !== 'COMFY_DYNAMICCOMBO_V3') return;
    const chosen = given[name];
    const options = specOptions(spec).options;
    const option = Array.isArray(options) ? options.find((o) => isRecord(o) && o.key === chosen) : undefined;
    const inputs = isRecord(option) && isRecord(option.inputs) ? option.inputs : {};
    for (const section of ['required', 'optional'] as const) {
      const entries = isRecord(inputs[section]) ? Object.entries(inputs[section]) : [];
      for (const [sub, subSpec] of entries) if (Array.isArray(subSpec)) add(`${name}.${sub}`, subSpec as unknown as InputSpec, required && section === 'required');
    }
  };
  for (const input of nodeInputs(def)) add(input.name, input.spec, input.required);
  return result;
}

function accepts(spec: InputSpec, outputType: string): boolean {
  const type = specType(spec);
  if (type === 'COMFY_MATCHTYPE_V3') {
    const template = specOptions(spec).template;
    const allowed = isRecord(template) && typeof template.allowed_types === 'string' ? template.allowed_types : '*';
    return typesFit(allowed, outputType);
  }
  if (outputType === 'COMFY_MATCHTYPE_V3') return true;
  return typesFit(type, outputType);
}

/** The server's rule (comfy_execution/validation.py): "*" fits all, comma lists fit when they share a type. */
function typesFit(input: string, output: string): boolean {
  if (input === '*' || output === '*' || input === output) return true;
  const outputs = output.split(',');
  return input.split(',').some((t) => outputs.includes(t));
}

function typeName(spec: InputSpec): string {
  return specType(spec);
}

function numberOption(record: unknown, key: string): number | undefined {
  return isRecord(record) && typeof record[key] === 'number' ? record[key] : undefined;
}
