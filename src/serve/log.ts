/**
 * The server's log: one line per request and per job or server event, on stderr. Every
 * line, and every text the server sends to a client, goes through `clean`: credentials of
 * the configuration and the API keys are masked, and absolute paths of the output folder
 * are shortened, so neither ever leaves the process.
 */
import type { Secret } from '../config/index.js';
import { createMask } from '../util/redact.js';

export type Clean = (text: string) => string;

export function createCleaner(secrets: readonly Secret[], paths: readonly { path: string; as: string }[]): Clean {
  // Longest first, so a folder inside another is shortened by its own name.
  const sorted = [...paths].filter((p) => p.path !== '').sort((a, b) => b.path.length - a.path.length);
  // The process-wide masking step: every form of a secret, control characters escaped.
  const mask = createMask(secrets);
  return (text) => {
    let result = mask(text);
    for (const { path, as } of sorted) result = result.split(path).join(as);
    return result;
  };
}

export interface ServeLog {
  info(message: string): void;
  warn(message: string): void;
}

export function createLog(stream: NodeJS.WritableStream, clean: Clean): ServeLog {
  const line = (level: string, message: string) => stream.write(`${new Date().toISOString()} comic serve ${level}: ${clean(message)}\n`);
  return {
    info: (message) => line('info', message),
    warn: (message) => line('warn', message),
  };
}
