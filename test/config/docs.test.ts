import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { parseConfigFile } from '../../src/config/file-tier.js';
import { createLocator } from '../../src/config/locate.js';
import { ENV } from '../../src/config/overrides.js';
import { PROJECT_SEARCH_PLACES } from '../../src/config/project.js';
import { fileConfigSchema } from '../../src/config/schema.js';
import { keyPaths } from '../../src/config/schema-keys.js';
import { FLAG_NAMES, SETTING_KEYS } from '../../src/config/types.js';
import { SETTABLE_KEYS } from '../../src/config/user-edit.js';
import { USER_CONFIG_DIR_ENV } from '../../src/config/user.js';
import { parseYamlText } from '../../src/config/parse-text.js';

const docs = await readFile(new URL('../../docs/config.md', import.meta.url), 'utf8');
const documented = (name: string) => docs.includes(`\`${name}\``) || docs.includes(`\`${name} `);

describe('docs/config.md keeps up with the code', () => {
  it('documents every key of the schema', () => {
    const paths = keyPaths(fileConfigSchema);
    expect(paths.length).toBeGreaterThan(30);
    expect(paths.filter((path) => !documented(path))).toEqual([]);
  });

  it('documents every setting, environment variable, flag, file form and settable key', () => {
    const names = [
      ...SETTING_KEYS,
      ...Object.values(ENV),
      USER_CONFIG_DIR_ENV,
      ...Object.values(FLAG_NAMES),
      '--no-fallback',
      ...PROJECT_SEARCH_PLACES,
      ...SETTABLE_KEYS,
    ];
    expect(names.filter((name) => !documented(name))).toEqual([]);
  });

  it('every YAML example in it is a valid configuration', () => {
    const examples = [...docs.matchAll(/```yaml\n([\s\S]*?)```/g)].map((match) => match[1] as string);
    expect(examples.length).toBeGreaterThanOrEqual(2);
    for (const text of examples) {
      // Give every referenced variable a value, as a user's environment would.
      const env = Object.fromEntries([...text.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => [m[1] as string, 'value']));
      const data = parseYamlText('docs/config.md', text);
      expect(() => parseConfigFile({ file: 'docs/config.md', data, locator: createLocator('docs/config.md', text) }, env)).not.toThrow();
    }
  });

  it('the complete example sets every top-level key', () => {
    const complete = [...docs.matchAll(/```yaml\n([\s\S]*?)```/g)].map((match) => match[1] as string).find((text) => text.includes('serve:'));
    const data = parseYamlText('docs/config.md', complete ?? '') as Record<string, unknown>;
    expect(Object.keys(data).sort()).toEqual(Object.keys(fileConfigSchema.shape).sort());
  });
});
