// Suite 2: the command layer, with `vscode` replaced by a fake (prompts answered, messages captured),
// over the real helper and sandbox: what a user sees for each command, each failure, and the status bar.

import { FakeContext, FakeState, fakeContext, resetFake, state as initialState } from '../support/fakeVscode';
import { helperPids, until } from '../support/harness';

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';

import * as extension from '../../src/extension';
import { INSTALL_DETAIL, secretKey } from '../../src/commands';
import {
  approve,
  approveAndFollow,
  cliArgv,
  freePort,
  helperCommand,
  isolatedEnv,
  Sandbox,
  SANDBOX_CLIENT,
  tempDir,
} from '../support/helper';

void initialState;

/** The parts of package.json these tests read. */
interface Manifest {
  contributes: { commands: { command: string }[]; configuration: { properties: Record<string, unknown> } };
}

const manifest = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as Manifest;

describe('the command layer with a fake vscode', () => {
  let sandbox: Sandbox;
  let config: { path: string; remove(): void };
  let fake: FakeState;
  let context: FakeContext;
  let api: extension.TickTickSignonApi;
  let savedEnv: NodeJS.ProcessEnv;
  const secretsSeen: string[] = [SANDBOX_CLIENT.clientSecret];

  before(async () => {
    sandbox = await Sandbox.start();
  });
  after(async () => {
    await sandbox.stop();
  });

  beforeEach(async () => {
    config = tempDir('tt-commands-');
    // The extension host's environment is the helper's: point it at the sandbox and a private cache.
    savedEnv = process.env;
    process.env = isolatedEnv(config.path, sandbox.baseUrl);
    fake = resetFake();
    fake.config.set('ticktick.helperCommand', helperCommand());
    fake.config.set('ticktick.clientId', SANDBOX_CLIENT.clientId);
    fake.config.set('ticktick.redirectUrl', `http://127.0.0.1:${await freePort()}/callback`);
    context = fakeContext();
    api = extension.activate(context as never);
    await statusText(/TickTick: Sign in$/);
  });

  afterEach(async () => {
    await extension.deactivate();
    context.subscriptions.forEach((d) => d.dispose());
    process.env = savedEnv;
    config.remove();
    const shown = fake.allText();
    for (const secret of secretsSeen) {
      assert.ok(!shown.includes(secret), `a secret or token reached a message or the log: ${secret.slice(0, 4)}…`);
    }
    assert.ok(!/[?&]code=[\w-]{3,}/.test(shown), 'an authorization code reached a message or the log');
  });

  function item() {
    assert.equal(fake.statusItems.length, 1);
    return fake.statusItems[0];
  }

  async function statusText(pattern: RegExp): Promise<void> {
    await until(
      `status bar ${pattern} (it shows ${JSON.stringify(fake.statusItems.map((s) => s.text))})`,
      () => fake.statusItems.length === 1 && pattern.test(item().text),
    );
  }

  function run(command: string): Promise<unknown> {
    const registered = fake.commands.get(command);
    assert.ok(registered, `${command} is not registered`);
    return Promise.resolve(registered());
  }

  /** The user's browser: approve on the sandbox page, then land on the helper's loopback listener. */
  function browserFollowsRedirect(decision: 'allow' | 'deny' = 'allow'): Promise<{ status: number; title: string }> {
    return new Promise((resolve, reject) => {
      fake.openExternal = (url) => {
        // Only the sign-in page is the sandbox's; another page (the developer portal) just opens.
        if (url.includes('/oauth/authorize?')) {
          approveAndFollow(url, decision).then(resolve, reject);
        }
        return true;
      };
    });
  }

  /** The user's browser on a remote machine: approve, then the user copies the address. */
  function browserStopsAtRedirect(): Promise<string> {
    return new Promise((resolve, reject) => {
      fake.openExternal = (url) => {
        approve(url, 'allow').then(resolve, reject);
        return true;
      };
    });
  }

  function answerSecret(secret = SANDBOX_CLIENT.clientSecret): void {
    fake.answerInput = (input) => (input.password ? secret : undefined);
  }

  async function signInByLoopback(): Promise<void> {
    answerSecret();
    const page = browserFollowsRedirect();
    await run('ticktick.signIn');
    assert.equal((await page).status, 200);
    const token = await api.getToken();
    secretsSeen.push(token.accessToken);
  }

  it('activates with the five commands of package.json, a status bar item, and disposables in subscriptions', () => {
    const contributed = manifest.contributes.commands.map((c) => c.command).sort();
    assert.deepEqual([...fake.commands.keys()].sort(), contributed);
    assert.deepEqual(contributed, [
      'ticktick.copyToken',
      'ticktick.pasteRedirectUrl',
      'ticktick.showStatus',
      'ticktick.signIn',
      'ticktick.signOut',
    ]);
    assert.equal(item().text, '$(sign-in) TickTick: Sign in');
    assert.equal(item().command, 'ticktick.signIn');
    assert.ok(item().visible);
    assert.ok(context.subscriptions.length >= 8, 'log, client, commands, status item, config listener, timer');
    for (const key of Object.keys(manifest.contributes.configuration.properties)) {
      assert.match(key, /^ticktick\./);
    }
  });

  it('Sign In: asks the secret in a password box, opens the browser, waits with a cancellable progress, shows the expiry', async () => {
    await signInByLoopback();
    const secretBox = fake.inputs.find((i) => i.password);
    assert.ok(secretBox, 'the secret was not asked in a password box');
    assert.equal(fake.inputs.length, 1, 'only the secret is asked when client id and redirect URL are set');
    assert.equal(await context.secrets.get(secretKey('default', SANDBOX_CLIENT.clientId)), SANDBOX_CLIENT.clientSecret);
    assert.equal(fake.opened.length, 1);
    assert.match(fake.opened[0], new RegExp(`^${sandbox.baseUrl}/oauth/authorize\\?`));
    assert.equal(fake.progress.length, 1);
    assert.ok(fake.progress[0].cancellable);
    assert.ok(fake.progress[0].done);
    await until('the success message', () => fake.messages.some((m) => m.level === 'info'));
    const success = fake.messages.find((m) => m.level === 'info')!;
    assert.match(success.text, /^Signed in to the sandbox until \d{4}-\d{2}-\d{2} \(1[78]\d days\)\.$/);
    await statusText(/^\$\(pass\) TickTick: 1[78]\d days left$/);
    assert.equal(item().command, 'ticktick.showStatus');
    assert.equal(item().backgroundColor, undefined);
    const token = await api.getToken();
    assert.ok(await sandbox.acceptsToken(token.accessToken));
    assert.ok(Math.abs(token.expiresAt - (Date.now() / 1000 + 15_552_000)) < 120);
  });

  it('Sign In with nothing configured asks client id, secret and redirect URL (with the helper default); later asks nothing', async () => {
    fake.config.delete('ticktick.clientId');
    fake.config.delete('ticktick.redirectUrl');
    const redirect = `http://127.0.0.1:${await freePort()}/`;
    fake.answerInput = (input) => {
      if (input.title === 'TickTick: Client ID') {
        // Its button opens the developer portal, where the app is registered.
        assert.deepEqual(
          input.buttons?.map((b) => b.tooltip),
          ['Open developer.ticktick.com to register an app'],
        );
        input.pressButton?.(0);
        return SANDBOX_CLIENT.clientId;
      }
      if (input.password) return SANDBOX_CLIENT.clientSecret;
      if (input.title === 'TickTick: Redirect URL') {
        assert.equal(input.value, 'http://127.0.0.1:8080/');
        return redirect;
      }
      return undefined;
    };
    const page = browserFollowsRedirect();
    await run('ticktick.signIn');
    assert.equal((await page).status, 200);
    assert.deepEqual(
      fake.inputs.map((i) => i.title),
      ['TickTick: Client ID', 'TickTick: Client Secret', 'TickTick: Redirect URL'],
    );
    assert.equal(fake.opened[0], 'https://developer.ticktick.com/manage');
    secretsSeen.push((await api.getToken()).accessToken);

    // The helper now knows the app: a new sign-in (even with the secret storage emptied) asks nothing.
    await context.secrets.delete(secretKey('default', SANDBOX_CLIENT.clientId));
    fake.inputs = [];
    const again = browserFollowsRedirect();
    await run('ticktick.signIn');
    assert.equal((await again).status, 200);
    assert.deepEqual(fake.inputs, []);
    assert.ok(fake.opened[2].includes(encodeURIComponent(redirect)), 'the saved redirect URL is used');
  });

  it('Sign In offers the paste box at once when the helper is not listening (setting alwaysPasteRedirectUrl)', async () => {
    fake.config.set('ticktick.alwaysPasteRedirectUrl', true);
    const location = browserStopsAtRedirect();
    fake.answerInput = async (input) => {
      if (input.password) return SANDBOX_CLIENT.clientSecret;
      if (input.title === 'TickTick: Paste Redirect URL') return location;
      return undefined;
    };
    await run('ticktick.signIn');
    assert.deepEqual(
      fake.inputs.map((i) => i.title),
      ['TickTick: Client Secret', 'TickTick: Paste Redirect URL'],
    );
    assert.ok(!fake.progress.some((p) => p.cancellable), 'no waiting progress when nothing listens');
    assert.ok(fake.messages.some((m) => /^Signed in to the sandbox until /.test(m.text)));
    await statusText(/days left$/);
    secretsSeen.push((await api.getToken()).accessToken);
  });

  it('Sign In offers the paste box at once when the redirect port is busy', async () => {
    const { createServer } = await import('node:net');
    const busy = createServer();
    const port = await freePort();
    await new Promise<void>((resolve) => busy.listen(port, '127.0.0.1', resolve));
    try {
      fake.config.set('ticktick.redirectUrl', `http://127.0.0.1:${port}/callback`);
      const location = browserStopsAtRedirect();
      fake.answerInput = async (input) =>
        input.password
          ? SANDBOX_CLIENT.clientSecret
          : input.title === 'TickTick: Paste Redirect URL'
            ? location
            : undefined;
      await run('ticktick.signIn');
      assert.ok(fake.inputs.some((i) => i.title === 'TickTick: Paste Redirect URL'));
      assert.ok(fake.messages.some((m) => /^Signed in to the sandbox until /.test(m.text)));
      secretsSeen.push((await api.getToken()).accessToken);
    } finally {
      busy.close();
    }
  });

  it('Sign In cancelled while waiting offers to paste; the pasted URL finishes the sign-in', async () => {
    answerSecret();
    const location = browserStopsAtRedirect();
    fake.answerMessage = (m) => (m.items.includes('Paste Redirect URL') ? 'Paste Redirect URL' : undefined);
    const signIn = run('ticktick.signIn');
    await until('the waiting progress', () => fake.progress.length === 1);
    const pasted = await location;
    fake.answerInput = (input) => (input.title === 'TickTick: Paste Redirect URL' ? pasted : undefined);
    fake.progress[0].cancel();
    await signIn;
    assert.ok(
      fake.messages.some((m) => /^Signed in to the sandbox until /.test(m.text)),
      JSON.stringify(fake.messages),
    );
    secretsSeen.push((await api.getToken()).accessToken);
  });

  it('Paste Redirect URL run on its own while Sign In waits ends the wait with one success message', async () => {
    answerSecret();
    const location = browserStopsAtRedirect();
    const signIn = run('ticktick.signIn');
    await until('the waiting progress', () => fake.progress.length === 1);
    const pasted = await location;
    fake.answerInput = (input) => (input.title === 'TickTick: Paste Redirect URL' ? pasted : undefined);
    await run('ticktick.pasteRedirectUrl');
    await signIn;
    assert.ok(fake.progress[0].done);
    assert.equal(fake.messages.filter((m) => /^Signed in to the sandbox until /.test(m.text)).length, 1);
    secretsSeen.push((await api.getToken()).accessToken);
  });

  it('a denial in the browser becomes a message in words with a Sign In action', async () => {
    answerSecret();
    const page = browserFollowsRedirect('deny');
    await run('ticktick.signIn');
    await page;
    const error = fake.messages.find((m) => m.level === 'error');
    assert.ok(error);
    assert.match(error.text, /denied in the browser/);
    assert.deepEqual(error.items, ['Sign In']);
    await statusText(/TickTick: Sign in$/);
  });

  it('a wrong client secret is reported, and forgotten so the next sign-in asks again', async () => {
    answerSecret('not-the-secret');
    secretsSeen.push('not-the-secret');
    const page = browserFollowsRedirect();
    await run('ticktick.signIn');
    await page;
    await until('the error message', () => fake.messages.some((m) => m.level === 'error'));
    const error = fake.messages.find((m) => m.level === 'error')!;
    assert.match(error.text, /refused to issue a token \(HTTP 401, invalid_client\)/);
    assert.equal(await context.secrets.get(secretKey('default', SANDBOX_CLIENT.clientId)), undefined);
  });

  it('pasting a URL from another attempt says so (stateMismatch), a used one says to sign in again', async () => {
    fake.config.set('ticktick.alwaysPasteRedirectUrl', true);
    const location = browserStopsAtRedirect();
    fake.answerInput = async (input) =>
      input.password ? SANDBOX_CLIENT.clientSecret : input.title?.includes('Paste') ? location : undefined;
    await run('ticktick.signIn');
    secretsSeen.push((await api.getToken()).accessToken);
    const used = await location;
    fake.answerInput = () => used;
    await run('ticktick.pasteRedirectUrl');
    assert.match(fake.messages[fake.messages.length - 1].text, /no longer valid/);

    fake.answerInput = (input) => (input.password ? SANDBOX_CLIENT.clientSecret : undefined);
    fake.openExternal = () => true;
    await run('ticktick.signIn'); // pending again, paste box dismissed
    fake.answerInput = () => used.replace(/state=[^&]+/, 'state=someone-else');
    await run('ticktick.pasteRedirectUrl');
    const last = fake.messages[fake.messages.length - 1];
    assert.match(last.text, /belongs to another sign-in attempt/);
    assert.deepEqual(last.items, ['Paste Redirect URL']);
  });

  it('when the browser cannot be opened, the warning offers Copy Link, which copies the sign-in page', async () => {
    fake.openExternal = () => false;
    fake.answerMessage = (m) => (m.items.includes('Copy Link') ? 'Copy Link' : undefined);
    answerSecret();
    const signIn = run('ticktick.signIn');
    await until('the link on the clipboard', () => fake.clipboard.startsWith(`${sandbox.baseUrl}/oauth/authorize?`));
    const warning = fake.messages.find((m) => m.items.includes('Copy Link'))!;
    assert.match(warning.text, /could not be opened\. Copy the sign-in link/);
    assert.equal(fake.clipboard, fake.opened[0]);
    // The user opens the copied link in a browser: the sign-in finishes as usual.
    assert.equal((await approveAndFollow(fake.clipboard)).status, 200);
    await signIn;
    secretsSeen.push((await api.getToken()).accessToken);
    await statusText(/days left$/);
  });

  it('Copy Token and Sign Out show in the palette only when signed in; the status item is labelled for screen readers', async () => {
    const menus = (
      JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as {
        contributes: { menus: { commandPalette: { command: string; when: string }[] } };
      }
    ).contributes.menus.commandPalette;
    assert.deepEqual(
      menus.filter((m) => m.when === 'ticktick.signedIn').map((m) => m.command),
      ['ticktick.copyToken', 'ticktick.signOut'],
    );
    assert.equal(fake.contextKeys.get('ticktick.signedIn'), false);
    assert.match(item().accessibilityInformation?.label ?? '', /^TickTick: Sign in\. Not signed in/);
    await signInByLoopback();
    await until('the signed-in context', () => fake.contextKeys.get('ticktick.signedIn') === true);
    assert.match(item().accessibilityInformation?.label ?? '', /^TickTick: \d+ days left\. Signed in/);
  });

  it('the walkthrough registers an app with the exact redirect URL, signs in, and offers the no-registration paths', () => {
    const { walkthroughs } = (
      JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as {
        contributes: { walkthroughs: { steps: { id: string; description: string; media: { markdown: string } }[] }[] };
      }
    ).contributes;
    const steps = walkthroughs[0].steps;
    assert.deepEqual(
      steps.map((step) => step.id),
      ['register', 'configure', 'signin', 'withoutApp'],
    );
    assert.match(steps[0].description, /http:\/\/127\.0\.0\.1:8080\//);
    assert.match(steps[2].description, /command:ticktick\.signIn/);
    const ignore = readFileSync(join(__dirname, '..', '..', '..', '.vscodeignore'), 'utf8');
    for (const step of steps) {
      assert.ok(readFileSync(join(__dirname, '..', '..', '..', step.media.markdown), 'utf8').startsWith('# '));
      assert.match(ignore, /^!media\/walkthrough\/\*\.md$/m, 'the walkthrough pages are packaged');
    }
    assert.match(readFileSync(join(__dirname, '..', '..', '..', steps[3].media.markdown), 'utf8'), /import/);
  });

  it('Copy Token puts the token on the clipboard and never in the message', async () => {
    await signInByLoopback();
    await run('ticktick.copyToken');
    const token = await api.getToken();
    assert.equal(fake.clipboard, token.accessToken);
    assert.match(
      fake.messages[fake.messages.length - 1].text,
      /^TickTick token copied to the clipboard \(valid until \d{4}-\d{2}-\d{2}\)\.$/,
    );
  });

  it('Copy Token when signed out says how to sign in', async () => {
    await run('ticktick.copyToken');
    const error = fake.messages[fake.messages.length - 1];
    assert.equal(error.level, 'error');
    assert.match(error.text, /not signed in to TickTick/);
    assert.deepEqual(error.items, ['Sign In']);
    assert.equal(fake.clipboard, '');
  });

  it('Show Status describes the sign-in and offers the next steps', async () => {
    await run('ticktick.showStatus');
    let shown = fake.messages[fake.messages.length - 1];
    assert.match(shown.text, /^Not signed in to TickTick \(profile "default"\)\./);
    assert.deepEqual(shown.items, ['Sign In']);
    await signInByLoopback();
    await run('ticktick.showStatus');
    shown = fake.messages[fake.messages.length - 1];
    assert.match(
      shown.text,
      /^Signed in to the sandbox \(profile "default"\), token valid until \d{4}-\d{2}-\d{2} \(1[78]\d days left\)\. Client ID: sandbox-client; region: ticktick\. Cache: /,
    );
    assert.ok(shown.text.includes(config.path));
    assert.deepEqual(shown.items, ['Copy Token', 'Sign Out']);
  });

  it('Sign Out asks first, signs out, and the status bar calls to sign in', async () => {
    await signInByLoopback();
    await statusText(/days left$/);
    fake.answerMessage = (m) => (m.modal ? 'Sign Out' : undefined);
    await run('ticktick.signOut');
    const question = fake.messages.find((m) => m.modal)!;
    assert.deepEqual(question.items, ['Sign Out', 'Sign Out and Forget Credentials']);
    assert.match(question.detail ?? '', /out on the whole machine: the ticktick-signon CLI, the other editors/);
    assert.equal(fake.messages[fake.messages.length - 1].text, 'Signed out of TickTick.');
    await statusText(/^\$\(sign-in\) TickTick: Sign in$/);
    await assert.rejects(
      api.getToken(),
      (error: Error & { code?: number }) => error.code === -32001 && /not signed in/.test(error.message),
    );
    assert.equal(await context.secrets.get(secretKey('default', SANDBOX_CLIENT.clientId)), SANDBOX_CLIENT.clientSecret);

    fake.answerMessage = (m) => (m.modal ? 'Sign Out and Forget Credentials' : undefined);
    await run('ticktick.signOut');
    assert.equal(
      fake.messages[fake.messages.length - 1].text,
      'You were not signed in to TickTick; nothing to sign out.',
    );
    assert.equal(await context.secrets.get(secretKey('default', SANDBOX_CLIENT.clientId)), undefined);
  });

  it('a helper that cannot start gets a clear message, a How to Install action, and a status bar warning', async () => {
    fake.setConfig('ticktick.helperCommand', 'ticktick-signon-not-installed serve');
    fake.answerMessage = (m) => (m.level === 'error' ? 'How to Install' : undefined);
    await run('ticktick.signIn');
    const error = fake.messages.find((m) => m.level === 'error')!;
    assert.match(
      error.text,
      /^Could not start the TickTick sign-on helper "ticktick-signon-not-installed serve": the command was not found\./,
    );
    assert.deepEqual(error.items, ['How to Install', 'Open Settings']);
    const howTo = fake.messages.find((m) => m.modal)!;
    assert.equal(howTo.detail, INSTALL_DETAIL);
    await statusText(/helper missing$/);
    assert.ok(item().backgroundColor);
  });

  it('notices a crashed helper, shows it, and restarts it on the next command', async () => {
    await until('the helper to run', () => helperPids().length === 1);
    const [pid] = helperPids();
    process.kill(pid, 'SIGKILL');
    await statusText(/helper stopped$/);
    await run('ticktick.showStatus');
    await until('a new helper', () => helperPids().length === 1 && helperPids()[0] !== pid);
    assert.match(fake.messages[fake.messages.length - 1].text, /^Not signed in to TickTick/);
    await statusText(/TickTick: Sign in$/);
    assert.ok(fake.logLines.some((line) => line.startsWith('warn The helper exited unexpectedly')));
  });

  it('the status bar warns when fewer than 7 days are left, and tokenExpiring brings a warning with Sign In', async () => {
    // A short-lived token from a sandbox that issues 3-day tokens.
    const shortLived = await Sandbox.start({ expiresIn: 3 * 86_400 });
    try {
      process.env.TICKTICK_SIGNON_AUTH_URL = shortLived.baseUrl;
      // A changed helper command restarts the helper, which then gets the new environment.
      await until('the helper to run', () => helperPids().length === 1);
      const [old] = helperPids();
      fake.setConfig(
        'ticktick.helperCommand',
        cliArgv(['serve'])
          .map((arg) => `"${arg}"`)
          .join(' '),
      );
      await until('the old helper to stop', () => !helperPids().includes(old));
      fake.answerMessage = (m) => (m.level === 'warning' && m.items.includes('Sign In') ? 'Sign In' : undefined);
      await signInByLoopback();
      await statusText(/^\$\(warning\) TickTick: [23] days left$/);
      assert.ok(item().backgroundColor);
      assert.equal(item().command, 'ticktick.signIn');
      // The helper's tokenExpiring brings one warning with a Sign In button, which starts a sign-in.
      await until('the expiry warning', () => fake.messages.some((m) => m.level === 'warning'));
      const warnings = fake.messages.filter((m) => m.level === 'warning');
      assert.equal(warnings.length, 1);
      assert.match(
        warnings[0].text,
        /^Your TickTick sign-in \(profile "default"\) ends in [23] days, on \d{4}-\d{2}-\d{2}\. Sign in again to keep scripts and extensions working\.$/,
      );
      assert.deepEqual(warnings[0].items, ['Sign In']);
      await until('a second sign-in from the warning', () => fake.opened.length === 2 && fake.progress.length === 2);
      fake.progress[1].cancel(); // the user gives up on that one
    } finally {
      await shortLived.stop();
    }
  });

  it('deactivate stops the helper process', async () => {
    await until('the helper to run', () => helperPids().length === 1);
    await extension.deactivate();
    await until('the helper to exit', () => helperPids().length === 0, 5000);
  });
});
