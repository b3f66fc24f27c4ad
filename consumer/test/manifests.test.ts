// What a registry user reads before installing: each publishable package's package.json is
// complete, its README opens with the install command and a short example, and it has a
// changelog. The tarballs themselves are checked by consumer.test.ts.
import fs from 'node:fs';
import path from 'node:path';
import { publishablePackages, ROOT } from './consumer-project';

const packages = publishablePackages();
const rootManifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string } };

it('finds the six publishable packages', () => {
  expect(packages.map((p) => p.name).sort()).toEqual(['@shmlink/cli', '@shmlink/core', '@shmlink/layout', '@shmlink/native', '@shmlink/rx', '@shmlink/segmented-file']);
});

describe.each(packages.map((p) => [p.name, p] as const))('%s', (_name, p) => {
  const m = p.manifest as Record<string, unknown> & {
    repository?: { type?: string; url?: string; directory?: string };
    keywords?: string[];
    exports?: Record<string, unknown>;
    engines?: { node?: string };
    dependencies?: Record<string, string>;
  };

  it('names its repository, folder, license, keywords and the Node versions it supports', () => {
    expect(m.repository).toEqual({ type: 'git', url: expect.stringMatching(/^git\+https:\/\/.+\.git$/), directory: path.relative(ROOT, p.dir) });
    expect(m.license).toBe('Apache-2.0');
    expect(m.keywords?.length).toBeGreaterThanOrEqual(3);
    expect(m.engines?.node).toBe(rootManifest.engines.node);
    expect(typeof m.description).toBe('string');
  });

  it('lists in files only what exists, and exports every entry point with its types', () => {
    for (const file of p.manifest.files ?? []) {
      // prebuilds/ is build output (pnpm prebuild), made before packing.
      if (file !== 'prebuilds') expect({ file, exists: fs.existsSync(path.join(p.dir, file)) }).toEqual({ file, exists: true });
    }
    const entries = Object.entries(m.exports ?? {}).filter(([key]) => key !== './package.json');
    expect(entries.length).toBeGreaterThan(0);
    for (const [key, value] of entries) {
      const target = value as { types?: string; default?: string };
      expect({ key, types: target.types?.endsWith('.d.ts'), first: Object.keys(target)[0] }).toEqual({ key, types: true, first: 'types' });
      for (const file of [target.types, target.default]) {
        expect({ key, file, built: file !== undefined && fs.existsSync(path.join(p.dir, file)) }).toEqual({ key, file, built: true });
      }
    }
  });

  it('depends on its siblings at their workspace version and brings no rxjs of its own', () => {
    for (const [dep, range] of Object.entries(m.dependencies ?? {})) {
      if (dep.startsWith('@shmlink/')) expect({ dep, range }).toEqual({ dep, range: 'workspace:*' });
    }
    expect(m.dependencies?.rxjs).toBeUndefined();
  });

  it('has a README that opens with the install command and a short example, a CHANGELOG and a LICENSE', () => {
    const readme = fs.readFileSync(path.join(p.dir, 'README.md'), 'utf8');
    const blocks = [...readme.matchAll(/```(\w*)\n([\s\S]*?)```/g)].map((b) => ({ lang: b[1], lines: (b[2] ?? '').trimEnd().split('\n') }));
    expect(readme.startsWith(`# ${p.name}\n`)).toBe(true);
    expect(blocks[0]).toEqual({ lang: 'sh', lines: [expect.stringMatching(new RegExp(`^npm install ${p.name.replace('/', '\\/')}( |$)`))] });
    // A command's short example is a shell session; a library's is code.
    expect(p.manifest.bin === undefined ? ['js', 'ts'] : ['sh']).toContain(blocks[1]?.lang);
    expect(blocks[1]?.lines.length).toBeLessThanOrEqual(5);
    expect(fs.readFileSync(path.join(p.dir, 'CHANGELOG.md'), 'utf8')).toMatch(new RegExp(`^# Changelog — ${p.name}\\n[\\s\\S]*## ${p.manifest.version.replace(/\./g, '\\.')} `));
    expect(fs.existsSync(path.join(p.dir, 'LICENSE'))).toBe(true);
  });
});

it('@shmlink/rx takes rxjs from the application, as a peer dependency', () => {
  const rx = packages.find((p) => p.name === '@shmlink/rx')?.manifest as { peerDependencies?: Record<string, string>; devDependencies?: Record<string, string> };
  expect(rx.peerDependencies?.rxjs).toMatch(/^\^7\./);
  expect(rx.devDependencies?.rxjs).toBeDefined();
});

it("the README's quick start is consumer/project/quick-start.mts, which the consumer test runs", () => {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const program = fs.readFileSync(path.join(ROOT, 'consumer', 'project', 'quick-start.mts'), 'utf8');
  expect(readme).toContain('```ts\n' + program + '```\n');
});
