import type { Command } from 'commander';
import type { CliContext } from '../io.js';

/** Adds one command (with its options and action) to the program. */
export type RegisterCommand = (program: Command, ctx: CliContext) => void;

export interface CommandEntry {
  readonly name: string;
  /** One line for `comic --help`; the module's own description says the rest. */
  readonly summary: string;
  /**
   * Loaded only when this command runs (or its help is asked for): a command's module pulls
   * in what it needs (sharp, ink, BullMQ, fastify…), and `comic validate` should not pay
   * for `comic serve`.
   */
  readonly load: () => Promise<RegisterCommand>;
}

// One entry per command module, in help order.
export const commands: readonly CommandEntry[] = [
  { name: 'init', summary: 'Scaffold comic.config.yaml and a starter script', load: async () => (await import('./init.js')).registerInit },
  { name: 'validate', summary: 'Check comic scripts; every problem as file:line:column', load: async () => (await import('./validate.js')).registerValidate },
  { name: 'plan', summary: 'Show the job graph a script expands to (--json, --dot)', load: async () => (await import('./plan.js')).registerPlan },
  { name: 'generate', summary: 'Render scripts into lettered pages, PDF and CBZ', load: async () => (await import('./generate.js')).registerGenerate },
  { name: 'compose', summary: 'Re-compose pages and exports from cached images', load: async () => (await import('./compose.js')).registerCompose },
  { name: 'templates', summary: 'List, show, validate and import workflow templates', load: async () => (await import('./templates.js')).registerTemplates },
  { name: 'doctor', summary: 'Check config, servers, models, fallback and folders', load: async () => (await import('./doctor.js')).registerDoctor },
  { name: 'cache', summary: 'List, prune or clear the render cache', load: async () => (await import('./cache.js')).registerCache },
  { name: 'config', summary: 'Get, set and list settings', load: async () => (await import('./config.js')).registerConfig },
  { name: 'serve', summary: 'Serve the pipeline over HTTP and WebSocket', load: async () => (await import('./serve.js')).registerServe },
  { name: 'worker', summary: 'Render jobs from a Redis queue on this GPU box', load: async () => (await import('./worker.js')).registerWorker },
  { name: 'queue', summary: 'See and manage a Redis render queue', load: async () => (await import('./queue.js')).registerQueue },
];
