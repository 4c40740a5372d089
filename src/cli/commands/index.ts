import type { Command } from 'commander';
import type { CliContext } from '../io.js';
import { registerInit } from './init.js';
import { registerConfig } from './config.js';
import { registerValidate } from './validate.js';
import { registerPlan } from './plan.js';
import { registerTemplates } from './templates.js';
import { registerDoctor } from './doctor.js';
import { registerServe } from './serve.js';
import { registerWorker } from './worker.js';
import { registerQueue } from './queue.js';

/** Adds one command (with its options and action) to the program. */
export type RegisterCommand = (program: Command, ctx: CliContext) => void;

// One import and one entry per command module; keep the list in help order.
export const commands: RegisterCommand[] = [
  registerInit,
  registerConfig,
  registerValidate,
  registerPlan,
  registerTemplates,
  registerDoctor,
  registerServe,
  registerWorker,
  registerQueue,
];
