/** Text and JSON views of templates for `comic templates list|show`. */
import { describeParam } from './builder.js';
import type { Template, TemplateSource } from './loader.js';
import type { TemplateListing } from './manager.js';
import type { SdapiSource } from './manifest.js';

export function sourceLabel(source: TemplateSource): string {
  return source.kind === 'builtin' ? 'built-in' : source.dir;
}

export function listingJson(listing: readonly TemplateListing[]): unknown[] {
  return listing.map(({ template, shadowedBy }) => ({
    id: template.id,
    version: template.version,
    source: template.source.kind,
    dir: template.dir,
    description: template.description,
    role: template.role,
    family: template.family,
    params: Object.keys(template.params),
    digest: template.digest,
    shadowed: shadowedBy !== null,
    ...(shadowedBy ? { shadowedBy: shadowedBy.dir } : {}),
  }));
}

/** The `templates list` table; shadowed templates are marked and explained under it. */
export function listingTable(listing: readonly TemplateListing[]): string {
  const rows = listing.map(({ template, shadowedBy }) => [
    shadowedBy ? `${template.id} (shadowed)` : template.id,
    template.version,
    sourceLabel(template.source),
    template.description,
    paramSummary(Object.keys(template.params)),
  ]);
  const legend = listing.some(({ template }) => hasStandard(Object.keys(template.params))) ? [`standard = ${STANDARD_PARAMS.join(', ')}`] : [];
  const shadowed = listing.filter((l) => l.shadowedBy !== null);
  const notes = shadowed.map(({ template, shadowedBy }) => `${template.id}@${template.version} (${sourceLabel(template.source)}) is shadowed by the ${template.id} in ${shadowedBy!.dir}`);
  const footer = [...legend, ...notes];
  return `${table(['ID', 'VERSION', 'SOURCE', 'DESCRIPTION', 'PARAMETERS'], rows)}${footer.length ? `\n${footer.join('\n')}\n` : ''}`;
}

/** The parameters every image template takes (see docs/templates.md). */
export const STANDARD_PARAMS = ['positive', 'negative', 'seed', 'width', 'height', 'checkpoint', 'steps', 'cfg', 'sampler', 'scheduler'] as const;

function hasStandard(names: readonly string[]): boolean {
  return STANDARD_PARAMS.every((name) => names.includes(name));
}

/** `standard + reference, clip_vision` when a template takes all the standard parameters. */
function paramSummary(names: readonly string[]): string {
  if (!hasStandard(names)) return names.join(', ');
  const extra = names.filter((name) => !(STANDARD_PARAMS as readonly string[]).includes(name));
  return extra.length ? `standard + ${extra.join(', ')}` : 'standard';
}

export function templateDetails(template: Template): string {
  const lines: string[] = [
    `${template.id}@${template.version} — ${template.description}`,
    `  role: ${template.role}   family: ${template.family}   source: ${sourceLabel(template.source)} (${template.dir})`,
    `  digest: ${template.digest}`,
    `  size: multiples of ${template.size.multiple}, ${template.size.min}..${template.size.max} px, about ${template.size.pixels} pixels`,
  ];
  if (template.notes) lines.push(`  notes: ${template.notes}`);
  lines.push('', 'Parameters:');
  const rows = Object.entries(template.params).map(([name, spec]) => [
    name,
    describeParam(spec),
    spec.inject.map((t) => `${t.node}.${t.input}`).join(', '),
    spec.description,
  ]);
  lines.push(indent(table(['NAME', 'TYPE', 'INJECTED INTO', 'DESCRIPTION'], rows)));
  lines.push('Outputs:', `  ${template.targets.outputs.map((id) => `#${id} (${template.workflow[id]!.class_type})`).join(', ')}`);
  lines.push('Requires:', `  nodes: ${template.requires.nodes.join(', ')}`);
  if (template.requires.models.length) lines.push(`  models: ${template.requires.models.map((m) => `${m.name} (${m.folder})`).join(', ')}`);
  lines.push(`SD API fallback (${template.sdapi.mode}):`);
  for (const [field, source] of Object.entries(template.sdapi.fields)) lines.push(`  ${field} ← ${sdapiSourceText(source)}`);
  for (const [param, why] of Object.entries(template.sdapi.unsupported)) lines.push(`  not honoured: ${param} — ${why}`);
  return `${lines.join('\n')}\n`;
}

export function templateJson(template: Template): unknown {
  const { workflow, targets, ...rest } = template;
  return { ...rest, outputs: targets.outputs, nodes: Object.keys(workflow).length };
}

function sdapiSourceText(source: SdapiSource): string {
  return typeof source === 'string' ? `parameter ${source}` : JSON.stringify(source.value);
}

/** Left-aligned columns; the last column is not padded. */
export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return `${[line(headers), ...rows.map(line)].join('\n')}\n`;
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => (l ? `  ${l}` : l))
    .join('\n');
}
