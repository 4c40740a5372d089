import { isImageJob, type Job, type JobGraph } from './types.js';

function quote(text: string): string {
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

function node(job: Job): string {
  const label = isImageJob(job) ? `${job.id}\n${job.request.width}×${job.request.height}` : job.id;
  return `${quote(job.id)} [label=${quote(label)}];`;
}

function cluster(name: string, label: string, jobs: readonly Job[]): string[] {
  if (jobs.length === 0) return [];
  return [`  subgraph ${quote(`cluster_${name}`)} {`, `    label=${quote(label)};`, ...jobs.map((j) => `    ${node(j)}`), '  }'];
}

/** The graph in Graphviz DOT: one cluster per kind of input, one per page (its panels and itself). */
export function planDot(graph: JobGraph, title: string): string {
  const of = (kind: Job['kind']) => graph.jobs.filter((j) => j.kind === kind);
  const lines = [
    `digraph ${quote(title)} {`,
    '  rankdir=LR;',
    '  node [shape=box, fontname="Helvetica"];',
    ...cluster('characters', 'character sheets', of('character')),
    ...cluster('backgrounds', 'backgrounds', of('background')),
  ];
  for (const page of graph.jobs) {
    if (page.kind !== 'page') continue;
    lines.push(...cluster(page.id, page.id, [...page.panels.map((id) => graph.get(id)), page]));
  }
  lines.push(...cluster('exports', 'exports', of('export')));
  for (const job of graph.jobs) {
    for (const dep of job.deps) lines.push(`  ${quote(dep)} -> ${quote(job.id)};`);
  }
  lines.push('}');
  return `${lines.join('\n')}\n`;
}
