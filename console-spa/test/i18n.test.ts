import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { de } from '../src/i18n/de';
import { en } from '../src/i18n/en';

type Tree = { [key: string]: string | Tree };
const languages: Record<string, Tree> = { en, de };

function flatten(tree: Tree, prefix = ''): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of Object.entries(tree)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (typeof v === 'string') out.set(key, v);
    else flatten(v, key).forEach((value, sub) => out.set(sub, value));
  }
  return out;
}

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : /\.tsx?$/.test(e.name) ? [join(dir, e.name)] : []);
}

const reference = flatten(en);

describe('translations', () => {
  for (const [lng, tree] of Object.entries(languages)) {
    it(`${lng} has every key, each non-empty and with the same placeholders`, () => {
      const strings = flatten(tree);
      expect([...strings.keys()].sort()).toEqual([...reference.keys()].sort());
      for (const [key, value] of strings) {
        expect(value.trim(), key).not.toBe('');
        const placeholders = (s: string) => (s.match(/{{\w+}}/g) ?? []).sort();
        expect(placeholders(value), key).toEqual(placeholders(reference.get(key)!));
      }
    });
  }

  it('every key the code asks for exists', () => {
    const used = new Set<string>();
    for (const file of sources(join(__dirname, '..', 'src'))) {
      for (const m of readFileSync(file, 'utf8').matchAll(/\bt\(\s*['`]([\w.]+)['`]/g)) used.add(m[1]);
    }
    const missing = [...used].filter((k) => !reference.has(k) && ![...reference.keys()].some((r) => r.startsWith(`${k}.`)));
    expect(missing).toEqual([]);
    expect(used.size).toBeGreaterThan(100);
  });
});
