/**
 * A command's context whose stdout and stderr mask every write (util/redact.ts): the
 * credentials of every configuration and queue URL this process has seen become `***`, and
 * control characters of server or script text become visible escapes. Commands that print
 * plain text take their context through this, so no line of theirs bypasses the masking step.
 */
import { maskedOutput, type Mask } from '../util/redact.js';
import type { CliContext } from './io.js';

export function maskedContext(ctx: CliContext, clean?: Mask): CliContext {
  return {
    setExitCode: (code) => ctx.setExitCode(code),
    io: {
      ...ctx.io,
      env: ctx.io.env,
      cwd: ctx.io.cwd,
      stdout: maskedOutput(ctx.io.stdout, clean),
      stderr: maskedOutput(ctx.io.stderr, clean),
    },
  };
}
