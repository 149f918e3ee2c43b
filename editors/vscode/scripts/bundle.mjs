// `npm run bundle`: puts the helper inside the extension, as Microsoft's Python-tools template does.
// bundled/libs gets the pinned, hashed pure-Python dependencies (pip --target from bundled/requirements.txt,
// which `npm run lock` compiles from pyproject.toml) and the ticktick_signon package of this repository;
// bundled/licenses keeps the dependencies' license files; bundled/bundle.json records what went in.
// The Python that runs pip is $TICKTICK_BUNDLE_PYTHON, else python3 (Windows: py -3); it needs pip.

import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const extension = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const repo = resolve(extension, '..', '..');
const bundled = join(extension, 'bundled');
const libs = join(bundled, 'libs');
const licenses = join(bundled, 'licenses');
const requirements = join(bundled, 'requirements.txt');
const source = join(repo, 'server', 'ticktick_signon');
// The oldest Python the helper supports: pip refuses any pinned wheel that does not install there.
const OLDEST_PYTHON = '3.10';

function python() {
  const chosen = process.env.TICKTICK_BUNDLE_PYTHON?.trim();
  if (chosen) {
    return [chosen];
  }
  return process.platform === 'win32' ? ['py', '-3'] : ['python3'];
}

function run(argv, what) {
  const done = spawnSync(argv[0], argv.slice(1), { stdio: ['ignore', 'inherit', 'inherit'] });
  if (done.error || done.status !== 0) {
    console.error(`bundle: ${what} failed (${done.error?.message ?? `exit ${done.status}`}): ${argv.join(' ')}`);
    process.exit(1);
  }
}

rmSync(libs, { recursive: true, force: true });
rmSync(licenses, { recursive: true, force: true });
mkdirSync(libs, { recursive: true });

// Wheels only (--only-binary), pure Python only (--implementation py: py3-none-any), each checked against
// its hash; no dependency resolution here, the lock file already holds the whole closure.
run(
  [
    ...python(),
    '-m',
    'pip',
    'install',
    '--target',
    libs,
    '--no-deps',
    '--require-hashes',
    '--only-binary=:all:',
    '--implementation',
    'py',
    '--python-version',
    OLDEST_PYTHON,
    '--no-compile',
    '--disable-pip-version-check',
    '--quiet',
    '-r',
    requirements,
  ],
  'pip install of the pinned dependencies',
);

// What was installed, from pip's own records; then keep their licenses and drop the records and scripts.
const packages = {};
for (const entry of readdirSync(libs)) {
  const match = /^(.+)-([^-]+)\.dist-info$/.exec(entry);
  if (!match) {
    continue;
  }
  packages[match[1]] = match[2];
  const info = join(libs, entry);
  const found = [
    join(info, 'licenses'),
    ...readdirSync(info)
      .filter((f) => /^(LICEN[CS]E|COPYING|NOTICE)/i.test(f))
      .map((f) => join(info, f)),
  ];
  for (const path of found.filter(existsSync)) {
    const target = join(licenses, match[1], statSync(path).isDirectory() ? '' : path.slice(info.length + 1));
    cpSync(path, target, { recursive: true });
  }
  rmSync(info, { recursive: true, force: true });
}
rmSync(join(libs, 'bin'), { recursive: true, force: true });
if (Object.keys(packages).length === 0) {
  console.error('bundle: pip installed nothing');
  process.exit(1);
}

// The helper itself, straight from the source tree (no build step, no bytecode).
cpSync(source, join(libs, 'ticktick_signon'), {
  recursive: true,
  filter: (path) => !/__pycache__|\.py[co]$/.test(path),
});

// What the helper never loads: test tools and pytest plugins of the dependencies (they only weigh the .vsix).
const NEVER_LOADED = [
  'click/testing.py',
  'anyio/pytest_plugin.py',
  'platformdirs/pytest_plugin.py',
  'platformdirs/testing.py',
  'certifi/tests',
];
for (const path of NEVER_LOADED) {
  rmSync(join(libs, path), { recursive: true, force: true });
}

// The protocol docs, where the bundled `serve --help` points (helper/protocol_docs.py: the package's docs/),
// as setup.py puts them into the wheel.
mkdirSync(join(libs, 'ticktick_signon', 'docs'), { recursive: true });
for (const name of ['protocol.md', 'protocol.schema.json']) {
  cpSync(join(repo, 'docs', name), join(libs, 'ticktick_signon', 'docs', name));
}

// Its version, as the package itself reports it, for the output channel.
const probe = spawnSync(
  python()[0],
  [
    ...python().slice(1),
    '-I',
    '-B',
    '-c',
    'import sys; sys.path.insert(0, sys.argv[1]); import ticktick_signon; print(ticktick_signon.__version__)',
    libs,
  ],
  { encoding: 'utf8' },
);
const helperVersion = probe.stdout?.trim();
if (probe.status !== 0 || !helperVersion) {
  console.error(`bundle: the bundled helper does not import: ${probe.stderr ?? probe.error}`);
  process.exit(1);
}
writeFileSync(
  join(bundled, 'bundle.json'),
  `${JSON.stringify({ helperVersion, requiresPython: `>=${OLDEST_PYTHON}`, packages }, null, 2)}\n`,
);
console.log(`bundle: ticktick-signon ${helperVersion} with ${Object.keys(packages).length} packages in bundled/libs`);
