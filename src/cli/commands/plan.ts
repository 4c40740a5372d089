/**
 * `comic plan <script> [--json | --dot] [--export pdf,cbz,webtoon]`: the job graph a
 * script expands to, without rendering anything. The tree view is for people; `--json`
 * (shape: src/graph/json.ts, schema comic.plan/1) is for tools; `--dot` is for Graphviz.
 */
import { Option } from 'commander';
import { loadConfig } from '../../config/index.js';
import { planDot, planJson, planTree, type JobGraph } from '../../graph/index.js';
import { exportOptionsFrom, planExports, prepareScript } from '../../run/prepare.js';
import { loadTemplateRegistry } from '../../templates/index.js';
import { commaList, configFlags, sharedOption } from '../options.js';
import type { RegisterCommand } from './index.js';

interface PlanFlags {
  readonly json?: boolean;
  readonly dot?: boolean;
  readonly export?: string[];
  readonly exports?: string[];
  readonly templates?: string[];
  readonly config?: string;
}


export const registerPlan: RegisterCommand = (program, ctx) => {
  program
    .command('plan')
    .description('Show the jobs a script expands to (sheets, backgrounds, panels, pages, exports) with their seeds and keys')
    .argument('<script>', 'the comic script (YAML)')
    .addOption(new Option('--json', 'every job as JSON (schema comic.plan/1), for tools').conflicts('dot'))
    .addOption(new Option('--dot', 'the graph in Graphviz DOT (pipe into `dot -Tsvg`)').conflicts('json'))
    .addOption(sharedOption.exports())
    // The spelling the plan command was first specified with; same meaning.
    .addOption(new Option('--exports <kinds>').argParser(commaList).hideHelp())
    .addOption(sharedOption.templates())
    .addOption(sharedOption.config())
    .action(async (script: string, flags: PlanFlags) => {
      const { io } = ctx;
      const exports = [...(flags.export ?? []), ...(flags.exports ?? [])];
      const config = await loadConfig({
        cwd: io.cwd,
        env: io.env,
        flags: configFlags({ ...flags, export: exports }),
      });
      const templates = await loadTemplateRegistry({ dirs: [...config.templates] });
      const { comic, graph } = await prepareScript(script, { cwd: io.cwd, templates, exports: planExports(config), exportOptions: exportOptionsFrom(config) });
      io.stdout.write(render(graph, comic.meta.title, flags));
    });
};

function render(graph: JobGraph, title: string, flags: PlanFlags): string {
  if (flags.json) return `${JSON.stringify(planJson(graph, title), null, 2)}\n`;
  if (flags.dot) return planDot(graph, title);
  return planTree(graph, title);
}
