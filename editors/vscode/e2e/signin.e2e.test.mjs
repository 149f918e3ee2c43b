// Suite 3, end to end in a real VS Code: code-server with only the built .vsix installed (no helper on
// PATH, no helper setting: the helper bundled in the .vsix runs, on the machine's python3), plus a tiny
// consumer extension (e2e/consumer) that asks vscode.authentication for a 'ticktick' session. The whole
// thing is driven through Debian's Chromium by playwright-core, against the sandbox provider: the consumer
// gets the token through VS Code's consent dialog and the extension's sign-in; it sees onDidChangeSessions
// when the user signs out from the Accounts menu and when another helper, outside VS Code, signs in again;
// with two profiles it picks its account in VS Code's picker and keeps it; after the helper is killed and
// the CLI signs out meanwhile, the restarted helper tells it. A second run, in Restricted Mode, proves the
// provider is there for consumers in an untrusted folder. Screenshots are kept in test-artifacts/.
import assert from 'node:assert/strict';
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, writeFileSync, readFileSync } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';
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
const accountsScreenshotPath = join(artifacts, 'vscode-accounts-menu.png');
const codeServerBin = join(here, 'node_modules', '.bin', 'code-server');
const vsce = join(extensionDir, 'node_modules', '.bin', 'vsce');
const vsix = join(extensionDir, 'dist', 'ticktick-signon.vsix');
const manifest = JSON.parse(readFileSync(join(extensionDir, 'package.json'), 'utf8'));
const extensionId = `${manifest.publisher}.${manifest.name}`;
const bundle = JSON.parse(readFileSync(join(extensionDir, 'bundled', 'bundle.json'), 'utf8'));
const SCOPES = ['tasks:read', 'tasks:write'];
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

/** PATH without any folder that holds a `ticktick-signon` command: the extension must bring its own helper. */
function pathWithoutHelper(path) {
  return (path ?? '')
    .split(delimiter)
    .filter((dir) => dir && !existsSync(join(dir, 'ticktick-signon')) && !existsSync(join(dir, 'ticktick-signon.exe')))
    .join(delimiter);
}

/** Every file under `dir` (code-server's logs: the output channel's file is somewhere below). */
function filesUnder(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? filesUnder(join(dir, entry.name)) : [join(dir, entry.name)],
  );
}

// Twice: as a user who trusts the folder (the whole story), and in Restricted Mode (workspace trust on, the
// folder not trusted), where the provider must still exist and serve consumers.
for (const restricted of [false, true]) {
  describe(
    restricted
      ? 'TickTick Sign-On in Restricted Mode (code-server, folder not trusted)'
      : 'TickTick Sign-On in a real VS Code (code-server), from the .vsix alone',
    { timeout: 420_000 },
    () => suite(restricted),
  );
}

function suite(restricted) {
  let root;
  let sandbox;
  let codeServer;
  let browser;
  let page;
  let env;
  let userData;
  let consumerLog;
  let redirectUrl;

  before(async () => {
    mkdirSync(artifacts, { recursive: true });
    root = support.tempDir('tt-e2e-');
    const configDir = join(root.path, 'ticktick-signon');
    userData = join(root.path, 'user-data');
    const extensions = join(root.path, 'extensions');
    const workspace = join(root.path, 'workspace');
    consumerLog = join(root.path, 'consumer.jsonl');
    mkdirSync(join(userData, 'User'), { recursive: true });
    mkdirSync(workspace, { recursive: true });
    writeFileSync(join(workspace, 'notes.md'), '# My TickTick scripts\n');
    writeFileSync(consumerLog, '');

    // code-server rewrites localhost URLs given to openExternal into its own /proxy/PORT/ path, which
    // the real provider (https://ticktick.com) never meets. 127.0.0.2 is loopback too, but not
    // "localhost" to VS Code, so the browser goes to the provider as it would to TickTick.
    sandbox = await support.Sandbox.start({ host: '127.0.0.2' });
    redirectUrl = `http://127.0.0.1:${await support.freePort()}/callback`;
    // What a user would set; the client secret is typed into the password box like a user would.
    // No ticktick.helperCommand and no ticktick.pythonPath: the bundled helper on python3 from PATH.
    writeFileSync(
      join(userData, 'User', 'settings.json'),
      JSON.stringify(
        {
          'workbench.startupEditor': 'none',
          'workbench.tips.enabled': false,
          'workbench.welcomePage.walkthroughs.openOnInstall': false,
          'telemetry.telemetryLevel': 'off',
          'extensions.autoCheckUpdates': false,
          'extensions.autoUpdate': false,
          'update.mode': 'none',
          'workbench.enableExperiments': false,
          'chat.disableAIFeatures': true,
          'security.workspace.trust.enabled': restricted,
          'security.workspace.trust.startupPrompt': 'never',
          'security.workspace.trust.untrustedFiles': 'open',
          'workbench.secondarySideBar.defaultVisibility': 'hidden',
        },
        null,
        2,
      ),
    );

    // The app's settings are machine-scoped (a workspace cannot choose them): in code-server, whose extension
    // host is a remote one, they live in the machine's settings (the Remote tab of the Settings editor).
    mkdirSync(join(userData, 'Machine'), { recursive: true });
    writeFileSync(
      join(userData, 'Machine', 'settings.json'),
      JSON.stringify({ 'ticktick.clientId': 'sandbox-client', 'ticktick.redirectUrl': redirectUrl }, null, 2),
    );

    // The extension host (and so the helper) inherits this: the sandbox, a private cache, no helper on PATH.
    env = {
      ...support.isolatedEnv(configDir, sandbox.baseUrl),
      PATH: pathWithoutHelper(process.env.PATH),
      XDG_CONFIG_HOME: join(root.path, 'xdg-config'),
      XDG_DATA_HOME: join(root.path, 'xdg-data'),
      XDG_CACHE_HOME: join(root.path, 'xdg-cache'),
      TICKTICK_E2E_CONSUMER_LOG: consumerLog,
    };
    assert.notEqual(
      spawnSync('ticktick-signon', ['--version'], { env }).error,
      undefined,
      'a ticktick-signon is on the PATH the test gives VS Code',
    );

    // The consumer: a second extension that uses the provider the standard way.
    const consumerVsix = join(root.path, 'ticktick-e2e-consumer.vsix');
    run(vsce, ['package', '--no-dependencies', '--allow-missing-repository', '--skip-license', '-o', consumerVsix], {
      cwd: join(here, 'consumer'),
    });

    const common = ['--user-data-dir', userData, '--extensions-dir', extensions];
    const installed = run(
      codeServerBin,
      [...common, '--install-extension', vsix, '--install-extension', consumerVsix],
      { env },
    );
    assert.match(installed, /'ticktick-signon.vsix' was successfully installed/);
    const listed = run(codeServerBin, [...common, '--list-extensions', '--show-versions'], { env });
    assert.ok(listed.includes(`${extensionId}@${manifest.version}`), listed);
    assert.ok(listed.includes('ticktick-signon-tests.ticktick-e2e-consumer@0.0.1'), listed);

    const port = await support.freePort();
    codeServer = startCodeServer(
      [
        '--auth',
        'none',
        '--bind-addr',
        `127.0.0.1:${port}`,
        '--disable-telemetry',
        '--disable-update-check',
        ...(restricted ? [] : ['--disable-workspace-trust']),
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

  it(
    restricted
      ? 'still provides TickTick sessions to other extensions'
      : 'gives another extension the session, and tells it of sign-outs in the Accounts menu and sign-ins by the CLI',
    async () => {
      try {
        await (restricted ? restrictedScenario() : scenario());
      } catch (error) {
        await page?.screenshot({ path: join(artifacts, 'vscode-e2e-failure.png') }).catch(() => undefined);
        throw error;
      }
    },
  );

  /** The consumer's records, one object per line. */
  function consumerEvents() {
    return readFileSync(consumerLog, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line));
  }

  async function consumerEvent(what, predicate, from = 0) {
    const end = Date.now() + 60_000;
    while (Date.now() < end) {
      const found = consumerEvents().slice(from).find(predicate);
      if (found) return found;
      await new Promise((r) => setTimeout(r, 250));
    }
    assert.fail(`the consumer extension never saw ${what}: ${JSON.stringify(consumerEvents())}`);
  }

  /** The extension's output channel, as code-server writes it to its logs. */
  async function outputChannel(pattern) {
    const end = Date.now() + 60_000;
    let text = '';
    while (Date.now() < end) {
      text = filesUnder(join(userData, 'logs'))
        .filter((file) => file.includes('TickTick Sign-On'))
        .map((file) => readFileSync(file, 'utf8'))
        .join('\n');
      if (pattern.test(text)) return text;
      await new Promise((r) => setTimeout(r, 250));
    }
    assert.fail(`the "TickTick Sign-On" output channel never said ${pattern}:\n${text}`);
  }

  function cli(args) {
    const argv = support.cliArgv(args);
    return spawnSync(argv[0], argv.slice(1), { env, encoding: 'utf8' });
  }

  async function scenario() {
    const statusItem = page.locator('.statusbar-item', { hasText: 'TickTick' });
    await statusItem.waitFor({ timeout: 60_000 });
    await assertText(statusItem, /TickTick: Sign in$/, 'the signed-out call to action');
    // The bundled helper runs, and the output channel names the interpreter and the bundle's version.
    const log = await outputChannel(/runs the bundled helper ticktick-signon/);
    assert.match(
      log,
      new RegExp(
        `Python 3\\.\\d+\\.\\d+ \\(.+, from python3 on PATH\\) runs the bundled helper ticktick-signon ${bundle.helperVersion.replace(/\./g, '\\.')}`,
      ),
    );
    await consumerEvent('its own activation', (e) => e.kind === 'activated');

    // The consumer asks for a session with createIfNone; VS Code asks the user first.
    await runCommand(page, 'TickTick Consumer: Get Session');
    const consent = page.locator('.monaco-dialog-box', { hasText: /wants to sign in using TickTick/ });
    await consent.waitFor({ timeout: 30_000 });
    await consent.locator('.monaco-button', { hasText: /^Allow$/ }).click();

    // createSession runs the extension's sign-in: only the secret is asked, in a password box.
    const input = page.locator('.quick-input-widget input');
    await page.locator('.quick-input-widget', { hasText: 'Client Secret' }).waitFor();
    assert.equal(await input.getAttribute('type'), 'password');
    const popup = browser.waitForEvent('page', { timeout: 30_000 });
    await input.fill('sandbox-secret');
    await input.press('Enter');
    const signInPage = await Promise.race([popup, confirmOpenExternal(page).then(() => popup)]);
    await signInPage.waitForLoadState();
    assert.ok(signInPage.url().startsWith(`${sandbox.baseUrl}/oauth/authorize?`), signInPage.url());

    // code-server can forward the redirect port only under its own /proxy/ path, which is not the
    // registered redirect URL: the extension says so and asks for the address the browser ends on.
    const pasteBox = page.locator('.quick-input-widget', { hasText: 'Paste Redirect URL' });
    await pasteBox.waitFor();
    assert.match(await pasteBox.innerText(), /VS Code runs on another machine than your browser/);
    const redirected = signInPage.waitForRequest((request) => request.url().startsWith(redirectUrl), {
      timeout: 30_000,
    });
    await signInPage.locator('#allow').click();
    const landedOn = (await redirected).url();
    await signInPage.close();
    await input.fill(landedOn);
    await input.press('Enter');

    // The consumer got the session: the helper's token, with both scopes, on the profile's account.
    const got = await consumerEvent('its session', (e) => e.kind === 'session' || e.kind === 'error');
    assert.equal(got.kind, 'session', JSON.stringify(got));
    const token = cli(['token']).stdout.trim();
    assert.equal(got.session.accessToken, token);
    assert.ok(await sandbox.acceptsToken(token));
    assert.deepEqual(got.session.scopes, SCOPES);
    assert.deepEqual(got.session.account, { id: 'default', label: 'default (the sandbox)' });
    await assertText(statusItem, /TickTick: 1[78]\d days left$/, 'the signed-in state');
    await page
      .locator('.notification-toast', { hasText: /Signed in to the sandbox until \d{4}-\d{2}-\d{2} \(1[78]\d days\)/ })
      .waitFor();
    await page.locator('.notification-toast', { hasText: 'finishing sign-in' }).waitFor({ state: 'detached' });
    // And it appeared nowhere on the screen.
    assert.ok(!(await page.locator('body').innerText()).includes(token));
    await page.screenshot({ path: screenshotPath });
    if (process.env.TICKTICK_E2E_UPDATE_SCREENSHOT === '1') {
      copyFileSync(screenshotPath, join(extensionDir, 'media', 'screenshot.png'));
    }

    // The Accounts menu lists the TickTick account; Sign Out there goes through the provider.
    let seen = consumerEvents().length;
    await page.locator('.monaco-workbench').click({ position: { x: 640, y: 400 } });
    await page.keyboard.press('Escape');
    await page.locator('.activitybar [aria-label^="Accounts"]').first().click();
    const account = page.locator('.monaco-menu .action-item', { hasText: 'default (the sandbox) (TickTick)' });
    await account.waitFor();
    await account.hover();
    const signOut = page.locator('.monaco-menu .action-item', { hasText: /^Sign Out$/ });
    await signOut.waitFor();
    await page.waitForTimeout(600); // the submenu fades in: let the picture show it whole
    await page.screenshot({ path: accountsScreenshotPath });
    if (process.env.TICKTICK_E2E_UPDATE_SCREENSHOT === '1') {
      copyFileSync(accountsScreenshotPath, join(extensionDir, 'media', 'accounts-menu.png'));
    }
    await signOut.click();
    const confirm = page.locator('.monaco-dialog-box', { hasText: /default \(the sandbox\)/ });
    await confirm.waitFor();
    await confirm.locator('.monaco-button', { hasText: /^Sign Out$/ }).click();
    const removed = await consumerEvent('the sign-out', (e) => e.kind === 'changed', seen);
    assert.equal(removed.session, null);
    await assertText(
      statusItem,
      /TickTick: Sign in$/,
      'the signed-out call to action after the Accounts menu sign-out',
    );
    const signedOut = cli(['token']);
    assert.equal(signedOut.status, 3, signedOut.stderr);
    assert.equal(signedOut.stdout, '');

    // A sign-in outside VS Code (another helper: the CLI's, Neovim's, another window's) reaches the
    // consumer and the status bar. It signs in to the provider VS Code is configured for: a token of
    // `login --sandbox`'s own embedded sandbox is never offered to consumers.
    seen = consumerEvents().length;
    await signInElsewhere('default');
    const again = await consumerEvent('the sign-in elsewhere', (e) => e.kind === 'changed', seen);
    const cliToken = cli(['token']).stdout.trim();
    assert.notEqual(cliToken, token);
    if (again.session) {
      assert.equal(again.session.accessToken, cliToken);
    }
    await assertText(statusItem, /TickTick: 1[78]\d days left$/, 'the state the CLI signed in to');

    // Sign Out through the command and VS Code's modal dialog: the consumer hears that too.
    seen = consumerEvents().length;
    await runCommand(page, 'TickTick: Sign Out');
    await page.locator('.monaco-dialog-box', { hasText: 'Sign out of TickTick' }).waitFor();
    await page.locator('.monaco-dialog-box .monaco-button', { hasText: /^Sign Out$/ }).click();
    await assertText(statusItem, /TickTick: Sign in$/, 'the signed-out call to action after Sign Out');
    await consumerEvent('the command sign-out', (e) => e.kind === 'changed' && e.session === null, seen);

    // Two profiles: the consumer gets the account it chose, and keeps it. (The Accounts menu's Sign Out took
    // its consent for "default" away, so VS Code asks again; with two accounts, it asks which.)
    const defaultToken = await signInElsewhere('default');
    const workToken = await signInElsewhere('work');
    await assertText(statusItem, /TickTick: 1[78]\d days left$/, 'the configured profile signed in again');
    seen = consumerEvents().length;
    await runCommand(page, 'TickTick Consumer: Get Session');
    const chosen = await answerVsCode('default (the sandbox)', seen);
    assert.equal(chosen.session?.accessToken, defaultToken, JSON.stringify(chosen));
    seen = consumerEvents().length;
    await runCommand(page, 'TickTick Consumer: Get Session');
    const kept = await consumerEvent('its chosen account', (e) => e.kind === 'session' || e.kind === 'error', seen);
    assert.equal(kept.session?.accessToken, defaultToken, 'asked again, the consumer keeps the account it chose');
    // Switching (clearSessionPreference) lets it pick "work".
    seen = consumerEvents().length;
    await runCommand(page, 'TickTick Consumer: Choose Account');
    const switched = await answerVsCode('work (the sandbox)', seen);
    assert.equal(switched.session?.accessToken, workToken, JSON.stringify(switched));
    assert.deepEqual(switched.session.account, { id: 'work', label: 'work (the sandbox)' });
    await page.screenshot({ path: join(artifacts, 'vscode-two-accounts.png') });

    // The helper dies; a CLI sign-out happens while none runs. The extension restarts the helper and the
    // consumer hears that its account is gone.
    const [helperPid] = bundledHelperPids();
    assert.ok(helperPid, 'the bundled helper runs');
    seen = consumerEvents().length;
    process.kill(helperPid, 'SIGKILL');
    const loggedOut = cli(['logout', '--profile', 'work']);
    assert.equal(loggedOut.status, 0, loggedOut.stderr);
    const gone = await consumerEvent('the sign-out made while the helper was down', (e) => e.kind === 'changed', seen);
    // Its chosen account is gone; VS Code then answers with the one account left that it may use.
    assert.notEqual(gone.session?.accessToken, workToken, JSON.stringify(gone));
    assert.ok(gone.session === null || gone.session.id === 'default', JSON.stringify(gone));
    const [restartedPid] = bundledHelperPids();
    assert.ok(restartedPid && restartedPid !== helperPid, 'a new helper runs');
    await assertText(statusItem, /TickTick: 1[78]\d days left$/, 'the configured profile, still signed in');
  }

  /** The bundled helpers of this test's code-server (their bootstrap lies in its extensions folder). */
  function bundledHelperPids() {
    return run('ps', ['-eo', 'pid=,args='])
      .split('\n')
      .filter((line) => line.includes(root.path) && line.includes('bundled/tool/bootstrap.py'))
      .map((line) => Number(line.trim().split(/\s+/)[0]));
  }

  async function restrictedScenario() {
    const statusItem = page.locator('.statusbar-item', { hasText: 'TickTick' });
    await statusItem.waitFor({ timeout: 60_000 });
    // Restricted Mode is on: VS Code says so in the status bar.
    await page.locator('.statusbar-item', { hasText: 'Restricted Mode' }).waitFor({ timeout: 30_000 });
    await assertText(statusItem, /TickTick: Sign in$/, 'the signed-out call to action in Restricted Mode');
    await consumerEvent('its own activation', (e) => e.kind === 'activated');
    const token = await signInElsewhere('default');
    await assertText(statusItem, /TickTick: 1[78]\d days left$/, 'the sign-in made elsewhere');
    const seen = consumerEvents().length;
    await runCommand(page, 'TickTick Consumer: Get Session');
    const got = await answerVsCode('default (the sandbox)', seen);
    assert.equal(got.kind, 'session', JSON.stringify(got));
    assert.equal(got.session.accessToken, token);
    await page.screenshot({ path: join(artifacts, 'vscode-restricted-mode.png') });
  }

  /** Answer VS Code's consent dialog (Allow) and account picker (`label`) until the consumer records an answer. */
  async function answerVsCode(label, from) {
    const end = Date.now() + 60_000;
    const allow = page.locator('.monaco-dialog-box .monaco-button', { hasText: /^Allow$/ });
    const pick = page.locator('.quick-input-list .monaco-list-row', { hasText: label });
    while (Date.now() < end) {
      const answer = consumerEvents()
        .slice(from)
        .find((e) => e.kind === 'session' || e.kind === 'error');
      if (answer) return answer;
      if (await allow.isVisible().catch(() => false)) {
        await allow.click().catch(() => undefined);
      } else if (
        await pick
          .first()
          .isVisible()
          .catch(() => false)
      ) {
        await pick
          .first()
          .click()
          .catch(() => undefined);
      }
      await page.waitForTimeout(250);
    }
    await page.screenshot({ path: join(artifacts, 'vscode-e2e-failure.png') }).catch(() => undefined);
    assert.fail(`the consumer got no answer after choosing ${label}: ${JSON.stringify(consumerEvents().slice(from))}`);
  }

  /** Sign `profile` in from another helper process on the same cache, against the sandbox. */
  async function signInElsewhere(profile) {
    const other = support.newClient(env);
    try {
      const started = await other.startSignon({
        clientId: 'sandbox-client',
        clientSecret: 'sandbox-secret',
        redirectUrl,
        profile,
        listen: false,
      });
      const token = await other.completeSignon({ redirectUrl: await support.approve(started.authorizeUrl) });
      return token.accessToken;
    } finally {
      await other.close();
    }
  }
}

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
    text = (
      (await locator
        .first()
        .innerText()
        .catch(() => '')) || ''
    ).trim();
    if (pattern.test(text)) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  assert.fail(`the status bar does not show ${what}: "${text}"`);
}
