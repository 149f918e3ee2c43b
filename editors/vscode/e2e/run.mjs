// `npm run test:e2e`: makes sure the end-to-end toolchain is there (installing it from the lock files
// unless TICKTICK_E2E_INSTALL=0), then runs the real-VS-Code test under Node 24 with node's test runner.

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const node24 = join(here, 'node24', 'node_modules', '.bin', 'node');
const codeServer = join(here, 'node_modules', '.bin', 'code-server');
const playwright = join(here, 'node_modules', 'playwright-core', 'package.json');
const chromium = process.env.TICKTICK_E2E_CHROMIUM || '/usr/bin/chromium';
const vsix = join(here, '..', 'dist', 'ticktick-signon.vsix');

function toolchainReady() {
  return existsSync(node24) && existsSync(codeServer) && existsSync(playwright);
}

if (!toolchainReady()) {
  if (process.env.TICKTICK_E2E_INSTALL === '0') {
    console.error('The VS Code end-to-end toolchain is not installed; run editors/vscode/e2e/install.sh.');
    process.exit(1);
  }
  console.log('Installing the VS Code end-to-end toolchain (Node 24, code-server, playwright-core)...');
  const installed = spawnSync('sh', [join(here, 'install.sh')], { stdio: 'inherit' });
  if (installed.status !== 0 || !toolchainReady()) {
    console.error('Installing the end-to-end toolchain failed; see the output above.');
    process.exit(1);
  }
}
if (!existsSync(chromium)) {
  console.error(
    `Chromium was not found at ${chromium} (Debian: apt-get install chromium; or set TICKTICK_E2E_CHROMIUM).`,
  );
  process.exit(1);
}
if (!existsSync(vsix)) {
  console.error(`${vsix} is missing; run "npm run build && npm run package" first.`);
  process.exit(1);
}

const result = spawnSync(node24, ['--test', '--test-reporter=spec', join(here, 'signin.e2e.test.mjs')], {
  stdio: 'inherit',
  env: {
    ...process.env,
    // code-server's launcher is `#!/usr/bin/env node`: Node 24 must come first on PATH.
    PATH: `${dirname(node24)}:${process.env.PATH}`,
    TICKTICK_E2E_CHROMIUM: chromium,
  },
});
process.exit(result.status ?? 1);
