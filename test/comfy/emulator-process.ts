/**
 * The ComfyUI emulator in a child process, for benchmarks: its CPU work and its memory
 * (history, images) then never mix with the measurements of the client under test.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface EmulatorProcess {
  readonly url: string;
  stop(): Promise<void>;
}

const MAIN = fileURLToPath(new URL('../fakes/comfyui/main.ts', import.meta.url));

export function spawnEmulator(options: { stepMs: number }): Promise<EmulatorProcess> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', MAIN, '--port', '0', '--step-ms', String(options.stepMs)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let output = '';
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      const url = /listening on (http:\/\/\S+)/.exec(output)?.[1];
      if (url === undefined) return;
      child.stdout?.off('data', onData);
      resolve({
        url,
        stop: () =>
          new Promise<void>((done) => {
            if (child.exitCode !== null) return done();
            child.once('exit', () => done());
            child.kill('SIGTERM');
          }),
      });
    };
    child.stdout?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`the emulator exited (${code}) before listening: ${output}`)));
  });
}
