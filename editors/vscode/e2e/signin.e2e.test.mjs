// Suite 3, end to end in a real VS Code: code-server with the built .vsix installed, driven through
// Debian's Chromium by playwright-core. "TickTick: Sign In" runs from the command palette against the
// sandbox provider; the sign-in page the extension opens is clicked through in the same browser, and
// the status bar must then show the signed-in state. A screenshot of that window is kept.

import assert from 'node:assert/strict';
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, writeFileSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const extensionDir = resolve(here, '..');
const repo = resolve(extensionDir, '..', '..');
const require = createRequire(import.meta.url);
// The compiled test support of the other suites: the helper command, the sandbox, free ports.
const support = require('../out/test/support/helper.js');

const artifacts = join(repo, 'test-artifacts');
const screenshotPath = join(artifacts, 'vscode-signed-in.png');
const codeServerBin = join(here, 'node_modules', '.bin', 'code-server');
const vsix = join(extensionDir, 'dist', 'ticktick-signon.vsix');
const manifest = JSON.parse(readFileSync(join(extensionDir, 'package.json'), 'utf8'));
const extensionId = `${manifest.publisher}.${manifest.name}`;

const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

function run(command, args, options) {
  return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...options });
}

/** Start code-server and resolve once it listens; its output goes to a log kept with the artifacts. */
function startCodeServer(args, env, logFile) {
  const child = spawn(codeServerBin, args, { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let output = '';
  const ready = new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => reject(new Error(`code-server did not start:\n${output}`)), 60_000);
    const onData = (chunk) => {
      output += chunk.toString();
      writeFileSync(logFile, output);
      if (/HTTP server listening on/.test(output)) {
        clearTimeout(timer);
        resolvePromise();
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => reject(new Error(`code-server exited (${code}):\n${output}`)));
  });
  return { child, ready, output: () => output };
}

describe('TickTick Sign-On in a real VS Code (code-server)', { timeout: 300_000 }, () => {
  let root;
  let sandbox;
  let codeServer;
  let browser;
  let page;
  let env;
  let configDir;

  before(async () => {
    mkdirSync(artifacts, { recursive: true });
    root = support.tempDir('tt-e2e-');
    configDir = join(root.path, 'ticktick-signon');
    const userData = join(root.path, 'user-data');
    const extensions = join(root.path, 'extensions');
    const workspace = join(root.path, 'workspace');
    mkdirSync(join(userData, 'User'), { recursive: true });
    mkdirSync(join(userData, 'Machine'), { recursive: true });
    mkdirSync(workspace, { recursive: true });
    writeFileSync(join(workspace, 'notes.md'), '# My TickTick scripts\n');

    // code-server rewrites localhost URLs given to openExternal into its own /proxy/PORT/ path, which
    // the real provider (https://ticktick.com) never meets. 127.0.0.2 is loopback too, but not
    // "localhost" to VS Code, so the browser goes to the provider as it would to TickTick.
    sandbox = await support.Sandbox.start({ host: '127.0.0.2' });
    const redirectPort = await support.freePort();
    // What a user would set; the client secret is typed into the password box like a user would.
    // The helper command is machine-scoped: in code-server (a remote window) it lives in the machine settings.
    writeFileSync(
      join(userData, 'Machine', 'settings.json'),
      JSON.stringify({ 'ticktick.helperCommand': support.helperCommand() }, null, 2),
    );
    writeFileSync(
      join(userData, 'User', 'settings.json'),
      JSON.stringify(
        {
          'ticktick.clientId': 'sandbox-client',
          'ticktick.redirectUrl': `http://127.0.0.1:${redirectPort}/callback`,
          'workbench.startupEditor': 'none',
          'workbench.tips.enabled': false,
          'workbench.welcomePage.walkthroughs.openOnInstall': false,
          'telemetry.telemetryLevel': 'off',
          'extensions.autoCheckUpdates': false,
          'extensions.autoUpdate': false,
          'update.mode': 'none',
          'workbench.enableExperiments': false,
          'chat.disableAIFeatures': true,
          'security.workspace.trust.enabled': false,
          'workbench.secondarySideBar.defaultVisibility': 'hidden',
        },
        null,
        2,
      ),
    );

    // The extension host (and so the helper) inherits this: the sandbox and a private cache.
    env = {
      ...support.isolatedEnv(configDir, sandbox.baseUrl),
      XDG_CONFIG_HOME: join(root.path, 'xdg-config'),
      XDG_DATA_HOME: join(root.path, 'xdg-data'),
      XDG_CACHE_HOME: join(root.path, 'xdg-cache'),
    };
    const common = ['--user-data-dir', userData, '--extensions-dir', extensions];
    const installed = run(codeServerBin, [...common, '--install-extension', vsix], { env });
    assert.match(installed, /was successfully installed/);
    const listed = run(codeServerBin, [...common, '--list-extensions', '--show-versions'], { env });
    assert.ok(listed.includes(`${extensionId}@${manifest.version}`), listed);

    const port = await support.freePort();
    codeServer = startCodeServer(
      [
        '--auth', 'none',
        '--bind-addr', `127.0.0.1:${port}`,
        '--disable-telemetry',
        '--disable-update-check',
        '--disable-workspace-trust',
        '--disable-getting-started-override',
        ...common,
        workspace,
      ],
      env,
      join(artifacts, 'vscode-e2e-code-server.log'),
    );
    await codeServer.ready;

    browser = await chromium.launchPersistentContext(join(root.path, 'chromium-profile'), {
      executablePath: process.env.TICKTICK_E2E_CHROMIUM || '/usr/bin/chromium',
      headless: true,
      args: CHROMIUM_FLAGS,
      viewport: { width: 1280, height: 800 },
      // Chromium's crash reporter writes under XDG_CONFIG_HOME: keep it in the test's folder too.
      env: { ...process.env, XDG_CONFIG_HOME: env.XDG_CONFIG_HOME, XDG_CACHE_HOME: env.XDG_CACHE_HOME },
    });
    page = browser.pages()[0] ?? (await browser.newPage());
    await page.goto(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(workspace)}`);
    await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
  });

  after(async () => {
    await browser?.close().catch(() => undefined);
    if (codeServer) {
      // code-server runs in its own process group; end the group so its extension host goes too.
      try {
        process.kill(-codeServer.child.pid, 'SIGTERM');
      } catch {
        // already gone
      }
      await new Promise((resolvePromise) => {
        if (codeServer.child.exitCode !== null) resolvePromise();
        else codeServer.child.once('exit', resolvePromise);
      });
    }
    await sandbox?.stop();
    root?.remove();
  });

  it('signs in from the command palette, shows it in the status bar, and signs out', async () => {
    try {
      await signIn();
    } catch (error) {
      await page?.screenshot({ path: join(artifacts, 'vscode-e2e-failure.png') }).catch(() => undefined);
      throw error;
    }
  });

  async function signIn() {
    const statusItem = page.locator('.statusbar-item', { hasText: 'TickTick' });
    await statusItem.waitFor({ timeout: 60_000 });
    await assertText(statusItem, /TickTick: Sign in$/, 'the signed-out call to action');

    await runCommand(page, 'TickTick: Sign In');
    // Only the secret is asked (client id and redirect URL are settings); it goes in a password box.
    const input = page.locator('.quick-input-widget input');
    await page.locator('.quick-input-widget', { hasText: 'Client Secret' }).waitFor();
    assert.equal(await input.getAttribute('type'), 'password');
    const popup = browser.waitForEvent('page', { timeout: 30_000 });
    await input.fill('sandbox-secret');
    await input.press('Enter');

    // The extension calls vscode.env.openExternal; VS Code may first ask whether to open the site.
    const signInPage = await Promise.race([popup, confirmOpenExternal(page).then(() => popup)]);
    await signInPage.waitForLoadState();
    assert.ok(signInPage.url().startsWith(`${sandbox.baseUrl}/oauth/authorize?`), signInPage.url());
    await page.locator('.notification-toast', { hasText: 'allow access in your browser' }).waitFor();
    // The person clicks Allow; the sandbox sends the browser to the helper's loopback listener.
    await signInPage.locator('#allow').click();
    await signInPage.getByText('Signed in to TickTick').waitFor();
    await signInPage.close();

    await assertText(statusItem, /TickTick: 1[78]\d days left$/, 'the signed-in state');
    await page.locator('.notification-toast', { hasText: /Signed in to TickTick until \d{4}-\d{2}-\d{2} \(1[78]\d days\)/ }).waitFor();
    // The waiting notification went away with the wait.
    await page.locator('.notification-toast', { hasText: 'allow access in your browser' }).waitFor({ state: 'detached' });
    await page.screenshot({ path: screenshotPath });
    if (process.env.TICKTICK_E2E_UPDATE_SCREENSHOT === '1') {
      copyFileSync(screenshotPath, join(extensionDir, 'media', 'screenshot.png'));
    }

    // The token is real: the helper's CLI hands it out from the same cache, and the provider accepts it.
    const argv = support.cliArgv(['token']);
    const token = run(argv[0], argv.slice(1), { env }).trim();
    assert.ok(await sandbox.acceptsToken(token));
    // And it appeared nowhere on the screen.
    assert.ok(!(await page.locator('body').innerText()).includes(token));

    // Sign Out asks in a modal dialog; afterwards the status bar calls to sign in again.
    await runCommand(page, 'TickTick: Sign Out');
    await page.locator('.monaco-dialog-box', { hasText: 'Sign out of TickTick' }).waitFor();
    await page.locator('.monaco-dialog-box .monaco-button', { hasText: /^Sign Out$/ }).click();
    await assertText(statusItem, /TickTick: Sign in$/, 'the signed-out call to action after Sign Out');
    await page.locator('.notification-toast', { hasText: 'Signed out of TickTick.' }).waitFor();
    // The helper's cache agrees: `ticktick-signon token` now exits 3 (not signed in) and prints nothing.
    const signedOut = spawnSync(argv[0], argv.slice(1), { env, encoding: 'utf8' });
    assert.equal(signedOut.status, 3, signedOut.stderr);
    assert.equal(signedOut.stdout, '');
  }
});

async function runCommand(page, title) {
  await page.locator('.monaco-workbench').click({ position: { x: 640, y: 400 } });
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor();
  await input.fill(`>${title}`);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first().waitFor();
  await input.press('Enter');
}

/** Click "Open" if VS Code asks before opening an external site; return when done or not asked. */
async function confirmOpenExternal(page) {
  const open = page.locator('.monaco-dialog-box .monaco-button', { hasText: /^Open$/ });
  try {
    await open.waitFor({ timeout: 10_000 });
  } catch {
    return;
  }
  await open.click();
}

async function assertText(locator, pattern, what) {
  const end = Date.now() + 60_000;
  let text = '';
  while (Date.now() < end) {
    text = ((await locator.first().innerText().catch(() => '')) || '').trim();
    if (pattern.test(text)) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  assert.fail(`the status bar does not show ${what}: "${text}"`);
}
