import { readFileSync } from 'node:fs';

// Read once from package.json so `--version` can never drift from what npm publishes.
const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
export const version: string = pkg.version;
