// The `ticktick` authentication provider, over the real helper and sandbox: sessions per profile with their
// scopes, createSession through the sign-in, removeSession through the helper, and onDidChangeSessions for
// our own changes and for a sign-in made by the CLI in another process. Then its pure parts on their own.

import { ExtensionHarness, helperPids, until } from '../support/harness';
import {
  consumerGetSession,
  fakeContext,
  resetFake,
  type FakeSession,
  type SessionsChange,
} from '../support/fakeVscode';

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';

import { forwardsAsIs, isLoopbackUrl } from '../../src/forwarding';
import { diffSessions, filterSessions, isOffered, issuerOf, sessionOf, TickTickSession } from '../../src/sessions';
import * as extension from '../../src/extension';
import {
  approve,
  cliArgv,
  helperCommand,
  isolatedEnv,
  newClient,
  Sandbox,
  SANDBOX_CLIENT,
  tempDir,
} from '../support/helper';

const SCOPES = ['tasks:read', 'tasks:write'];

const manifest = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as {
  contributes: { authentication: { id: string; label: string }[] };
};

describe('the ticktick authentication provider', () => {
  let sandbox: Sandbox;
  let h: ExtensionHarness;
  let changes: SessionsChange[];

  before(async () => {
    sandbox = await Sandbox.start();
  });
  after(async () => {
    await sandbox.stop();
  });
  beforeEach(async () => {
    h = await ExtensionHarness.start(sandbox);
    changes = [];
    h.provider().onDidChangeSessions((change) => changes.push(change));
  });
  afterEach(async () => {
    await h.stop();
  });

  /** The CLI of the same installation, in its own process, on the same cache. */
  function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
    const argv = cliArgv(args);
    return spawnSync(argv[0], argv.slice(1), { env: process.env, encoding: 'utf8' });
  }

  it('is contributed and registered as "ticktick" / "TickTick", one account per profile, several accounts', () => {
    assert.deepEqual(manifest.contributes.authentication, [{ id: 'ticktick', label: 'TickTick' }]);
    const registered = h.fake.authProviders;
    assert.equal(registered.length, 1);
    assert.equal(registered[0].id, 'ticktick');
    assert.equal(registered[0].label, 'TickTick');
    assert.equal(registered[0].options?.supportsMultipleAccounts, true);
  });

  it('has no session before a sign-in', async () => {
    assert.deepEqual(await h.provider().getSessions(), []);
    assert.deepEqual(await h.provider().getSessions(['tasks:read', 'tasks:write']), []);
  });

  it("createSession runs the sign-in and resolves with the profile's token as a session; onDidChangeSessions says added", async () => {
    h.answerSecret();
    const page = h.browserFollowsRedirect();
    const session = await h.provider().createSession(['tasks:write', 'tasks:read']);
    assert.equal((await page).status, 200);
    h.secretsSeen.push(session.accessToken);
    assert.equal(session.id, 'default');
    assert.deepEqual(session.account, { id: 'default', label: 'default (the sandbox)' });
    assert.deepEqual([...session.scopes], ['tasks:read', 'tasks:write']);
    // The same token the CLI hands out, and the provider accepts it.
    assert.equal(cli(['token']).stdout.trim(), session.accessToken);
    assert.ok(await h.sandbox.acceptsToken(session.accessToken));
    await until('the added event', () => changes.length > 0);
    assert.deepEqual(
      changes[0].added?.map((s) => s.id),
      ['default'],
    );
    await h.statusText(/days left$/);
  });

  it('getSessions filters by scope in any order; no scopes returns every session', async () => {
    const token = await h.signInByLoopback();
    const ids = async (scopes?: string[]) => (await h.provider().getSessions(scopes)).map((s: FakeSession) => s.id);
    assert.deepEqual(await ids(), ['default']);
    assert.deepEqual(await ids([]), ['default']);
    assert.deepEqual(await ids(['tasks:read', 'tasks:write']), ['default']);
    assert.deepEqual(await ids(['tasks:write', 'tasks:read']), ['default']);
    assert.deepEqual(await ids(['tasks:read']), ['default']);
    assert.deepEqual(await ids(['tasks:read', 'tasks:read']), ['default']);
    assert.deepEqual(await ids(['tasks:read', 'calendar:read']), []);
    assert.equal((await h.provider().getSessions())[0].accessToken, token);
  });

  it('cancelling the sign-in rejects createSession with a cancellation and shows no error', async () => {
    h.fake.answerInput = () => undefined; // Escape on the secret box
    await assert.rejects(h.provider().createSession(['tasks:read']), (error: Error) => error.name === 'Canceled');
    assert.ok(!h.fake.messages.some((m) => m.level === 'error'), JSON.stringify(h.fake.messages));
    assert.deepEqual(changes, []);
  });

  it('a failed sign-in rejects createSession and tells the user why', async () => {
    h.answerSecret();
    const page = h.browserFollowsRedirect('deny');
    await assert.rejects(h.provider().createSession(['tasks:read']), /denied in the browser/);
    await page;
    await until('the error message', () => h.fake.messages.some((m) => m.level === 'error'));
    assert.deepEqual(h.fake.messages.find((m) => m.level === 'error')!.items, ['Sign In']);
  });

  it('createSession refuses scopes TickTick does not grant, before any sign-in', async () => {
    await assert.rejects(
      h.provider().createSession(['tasks:read', 'calendar:read']),
      /only the scopes tasks:read and tasks:write, not calendar:read/,
    );
    assert.deepEqual(h.fake.opened, []);
  });

  it('removeSession signs the profile out through the helper; onDidChangeSessions says removed', async () => {
    await h.signInByLoopback();
    await until('the added event', () => changes.some((c) => c.added?.length));
    await h.provider().removeSession('default');
    assert.equal(cli(['token']).status, 3, "the helper's cache has no token any more");
    assert.ok(h.fake.messages.some((m) => /^Signed profile "default" out on the whole machine/.test(m.text)));
    assert.deepEqual(await h.provider().getSessions(), []);
    await until('the removed event', () => changes.some((c) => c.removed?.some((s) => s.id === 'default')));
    await h.statusText(/TickTick: Sign in$/);
    // The saved credentials stay: the next sign-in asks nothing but the browser.
    const status = cli(['status']);
    assert.match(status.stdout + status.stderr, /sandbox-client/);
  });

  /** Sign `profile` in from another helper process (another window, the Neovim client...) on the same cache. */
  async function signInElsewhere(profile: string): Promise<string> {
    const other = newClient(process.env);
    try {
      const started = await other.startSignon({
        ...SANDBOX_CLIENT,
        redirectUrl: h.fake.config.get('ticktick.redirectUrl') as string,
        profile,
        listen: false,
      });
      const token = await other.completeSignon({ redirectUrl: await approve(started.authorizeUrl) });
      h.secretsSeen.push(token.accessToken);
      return token.accessToken;
    } finally {
      await other.close();
    }
  }

  it('a sign-in in another process reaches onDidChangeSessions and the status bar; so does a CLI sign-out', async () => {
    assert.deepEqual(await h.provider().getSessions(), []);
    const token = await signInElsewhere('default');
    await until('the added event', () => changes.some((c) => c.added?.some((s) => s.id === 'default')), 10_000);
    const [session] = await h.provider().getSessions(['tasks:read', 'tasks:write']);
    assert.equal(session.accessToken, token);
    assert.equal(cli(['token']).stdout.trim(), token);
    await h.statusText(/days left$/);

    // And a sign-out by the CLI.
    assert.equal(cli(['logout']).status, 0);
    await until('the removed event', () => changes.some((c) => c.removed?.some((s) => s.id === 'default')), 10_000);
    await h.statusText(/TickTick: Sign in$/);
  });

  it('a helper that dies is restarted; a CLI sign-out made meanwhile then fires removed', async () => {
    await h.signInByLoopback();
    await until('the added event', () => changes.some((c) => c.added?.some((s) => s.id === 'default')));
    const [pid] = helperPids();
    assert.ok(pid, 'a helper runs');
    process.kill(pid, 'SIGKILL');
    await h.statusText(/helper stopped$/);
    // Signed out by the CLI while no helper of VS Code's watched the cache.
    assert.equal(cli(['logout']).status, 0);
    await until('the removed event', () => changes.some((c) => c.removed?.some((s) => s.id === 'default')), 15_000);
    assert.deepEqual(await h.provider().getSessions(), []);
    await h.statusText(/TickTick: Sign in$/);
    const [restarted] = helperPids();
    assert.ok(restarted && restarted !== pid, 'a new helper runs');
    assert.ok(h.fake.logLines.some((l) => /Restarting the helper in 1 s/.test(l)));
  });

  it('two profiles: each consumer gets the account it chose, getSessions filters by account, createSession signs in the one asked', async () => {
    const own = await h.signInByLoopback();
    const work = await signInElsewhere('work');
    await until('both sessions', () => changes.some((c) => c.added?.some((s) => s.id === 'work')), 10_000);
    const labels = async (options?: { account?: { id: string; label: string } }) =>
      (await h.provider().getSessions(['tasks:read', 'tasks:write'], options)).map((s) => s.account.label);
    // The configured profile first; each labelled by profile and issuer.
    assert.deepEqual(await labels(), ['default (the sandbox)', 'work (the sandbox)']);
    assert.deepEqual(await labels({ account: { id: 'work', label: 'work (the sandbox)' } }), ['work (the sandbox)']);
    assert.deepEqual(await labels({ account: { id: 'nobody', label: 'nobody' } }), []);

    // VS Code asks a consumer which account (it is multi-account), remembers it, and asks nothing more.
    h.fake.answerAccountPick = (sessions) => sessions.find((s) => s.id === 'work');
    const first = await consumerGetSession('a.consumer', 'ticktick', SCOPES, { createIfNone: true });
    assert.equal(first?.accessToken, work);
    h.fake.answerAccountPick = () => assert.fail('VS Code asked again');
    const again = await consumerGetSession('a.consumer', 'ticktick', SCOPES, { silent: true });
    assert.equal(again?.accessToken, work);
    // Another consumer chooses the other account; nothing leaks from the first one's choice.
    h.fake.answerAccountPick = (sessions) => sessions.find((s) => s.id === 'default');
    assert.equal(
      (await consumerGetSession('b.consumer', 'ticktick', SCOPES, { createIfNone: true }))?.accessToken,
      own,
    );
    assert.equal(await consumerGetSession('c.consumer', 'ticktick', SCOPES, { silent: true }), undefined);

    // createSession for a named account signs in that profile, with the app it last used.
    const opened = h.fake.opened.length;
    const page = h.browserFollowsRedirect();
    const renewed = await h.provider().createSession(SCOPES, { account: { id: 'work', label: 'work (the sandbox)' } });
    assert.equal((await page).status, 200);
    h.secretsSeen.push(renewed.accessToken);
    assert.equal(renewed.id, 'work');
    assert.notEqual(renewed.accessToken, work);
    assert.equal(h.fake.opened.length, opened + 1);
    assert.equal(cli(['token', '--profile', 'work']).stdout.trim(), renewed.accessToken);
    assert.equal(cli(['token']).stdout.trim(), own, 'the configured profile was not touched');
  });

  it('a label does not change when only the region setting changes, so consent holds', async () => {
    await h.signInByLoopback();
    const session = await consumerGetSession('a.consumer', 'ticktick', SCOPES, { createIfNone: true });
    const seen = changes.length;
    h.fake.setConfig('ticktick.region', 'dida365');
    await h.provider().getSessions();
    await new Promise((resolve) => setTimeout(resolve, 300));
    const after = await consumerGetSession('a.consumer', 'ticktick', SCOPES, { silent: true });
    assert.equal(after?.account.label, session?.account.label);
    assert.equal(after?.accessToken, session?.accessToken);
    assert.ok(!changes.slice(seen).some((c) => c.changed?.length || c.removed?.length), JSON.stringify(changes));
  });

  it('an expired token is not a session', async () => {
    const shortLived = await Sandbox.start({ expiresIn: 2 });
    try {
      process.env.TICKTICK_SIGNON_AUTH_URL = shortLived.baseUrl;
      h.fake.setConfig(
        'ticktick.helperCommand',
        cliArgv(['serve'])
          .map((arg) => `"${arg}"`)
          .join(' '),
      );
      await h.signInByLoopback();
      await new Promise((resolve) => setTimeout(resolve, 2500));
      assert.deepEqual(await h.provider().getSessions(), []);
      assert.deepEqual(await h.provider().getSessions(['tasks:read']), []);
    } finally {
      await shortLived.stop();
    }
  });

  it('in a remote window whose forwarded address is not the redirect URL, Sign In explains and takes the pasted URL', async () => {
    h.fake.asExternalUri = (url) => url.replace(/^http:\/\/127\.0\.0\.1:(\d+)\//, 'https://code.example.net/proxy/$1/');
    const location = h.browserStopsAtRedirect();
    h.fake.answerInput = async (input) =>
      input.password
        ? SANDBOX_CLIENT.clientSecret
        : input.title === 'TickTick: Paste Redirect URL'
          ? location
          : undefined;
    const session = await h.provider().createSession(['tasks:read', 'tasks:write']);
    h.secretsSeen.push(session.accessToken);
    const paste = h.fake.inputs.find((i) => i.title === 'TickTick: Paste Redirect URL');
    assert.ok(paste, 'the paste box was not offered');
    assert.match(
      paste.prompt ?? '',
      /^VS Code runs on another machine than your browser, and it can forward http:\/\/127\.0\.0\.1:\d+\/callback only as https:\/\/code\.example\.net\/proxy\/\d+\/callback/,
    );
    assert.ok(!h.fake.progress.some((p) => p.cancellable), 'no loopback wait when the listener cannot be reached');
    // The helper did not keep listening on the redirect port.
    assert.ok(
      !/listening on loopback: true/.test(h.fake.logLines.filter((l) => l.includes('Sign-in started')).pop() ?? ''),
    );
  });

  it('in a remote window that forwards the redirect port as is, the loopback sign-in still finishes by itself', async () => {
    h.fake.asExternalUri = (url) => url.replace('127.0.0.1', 'localhost');
    await h.signInByLoopback();
    assert.ok(!h.fake.inputs.some((i) => i.title === 'TickTick: Paste Redirect URL'));
  });
});

describe('a sandbox token when VS Code is not configured for the sandbox', () => {
  it('is never offered: no session, no account, and a consumer gets nothing', async () => {
    // The reproduction: `login --sandbox --profile work` from the CLI, VS Code on TickTick itself.
    const config = tempDir('tt-sandbox-only-');
    const savedEnv = process.env;
    process.env = isolatedEnv(config.path);
    const fake = resetFake();
    fake.config.set('ticktick.helperCommand', helperCommand());
    fake.config.set('ticktick.profile', 'work');
    const context = fakeContext();
    const api = extension.activate(context as never);
    try {
      await until('the helper', () => /TickTick: Sign in$/.test(fake.statusItems[0]?.text ?? ''));
      const argv = cliArgv(['login', '--sandbox', '--profile', 'work']);
      const done = spawnSync(argv[0], argv.slice(1), { env: process.env, encoding: 'utf8' });
      assert.equal(done.status, 0, done.stderr);
      // The extension hears of the new profile (tokenChanged), reads it, and keeps it from consumers.
      await until('the refusal', () =>
        fake.logLines.some((l) => /Profile work was signed in to the sandbox, .* not offered/.test(l)),
      );
      const provider = fake.authProviders.find((p) => p.id === 'ticktick')!.provider;
      assert.deepEqual(await provider.getSessions(), []);
      assert.deepEqual(
        await provider.getSessions(SCOPES, { account: { id: 'work', label: 'work (the sandbox)' } }),
        [],
      );
      assert.equal(await consumerGetSession('a.consumer', 'ticktick', SCOPES, { silent: true }), undefined);
      assert.equal(await consumerGetSession('a.consumer', 'ticktick', SCOPES), undefined);
      // Nor through the superseded getToken API, though the configured profile has that token.
      await assert.rejects(api.getToken(), (error: Error & { code?: number }) => error.code === -32001);
    } finally {
      await extension.deactivate();
      context.subscriptions.forEach((d) => d.dispose());
      process.env = savedEnv;
      config.remove();
    }
  });
});

describe('sessions, pure', () => {
  const token = (profile: string, scope: string, expiresAt = 2_000_000_000) => ({
    accessToken: `token-${profile}-${expiresAt}`,
    tokenType: 'bearer',
    scope,
    expiresAt,
    expiresIn: 0,
    profile,
  });

  const plain = { region: null, sandbox: false };

  it("a session is the profile's token with its scopes, labelled by profile and issuer", () => {
    const dida = { kind: 'dida365', url: 'https://dida365.com', local: false, name: 'Dida365' } as const;
    const session = sessionOf(token('work', 'tasks:write tasks:read'), { region: 'dida365', issuer: dida });
    assert.deepEqual(session, {
      id: 'work',
      accessToken: 'token-work-2000000000',
      account: { id: 'work', label: 'work (Dida365)' },
      scopes: ['tasks:read', 'tasks:write'],
      expiresAt: 2_000_000_000,
      issuer: { kind: 'dida365', url: 'https://dida365.com', local: false, name: 'Dida365' },
    });
    // A sandbox's port is in its URL, never in the label.
    const local = { kind: 'custom', url: 'http://127.0.0.1:54321', local: true, name: 'the sandbox' } as const;
    assert.equal(
      sessionOf(token('t', 'tasks:read'), { region: 'ticktick', issuer: local }).account.label,
      't (the sandbox)',
    );
  });

  it('without an issuer record (older helpers), the label comes from the sandbox flag, else the recorded region', () => {
    const label = (status: Parameters<typeof issuerOf>[0]) => sessionOf(token('p', 'tasks:read'), status).account.label;
    assert.equal(label({ region: null }), 'p (TickTick)');
    assert.equal(label({ region: 'ticktick', sandbox: false, issuer: null }), 'p (TickTick)');
    assert.equal(label({ region: 'dida365', sandbox: false }), 'p (Dida365)');
    assert.equal(label({ region: 'ticktick', sandbox: true }), 'p (the sandbox)');
    assert.deepEqual(issuerOf({ region: 'ticktick', sandbox: true }), {
      name: 'the sandbox',
      local: true,
      url: null,
      kind: 'custom',
    });
  });

  it('a local or custom issuer is offered only when VS Code is configured for that provider', () => {
    const ticktick = issuerOf({ region: 'ticktick', sandbox: false });
    const sandbox = { kind: 'custom', url: 'http://127.0.0.1:8765', local: true, name: 'the sandbox' } as const;
    const unknownLocal = issuerOf({ region: null, sandbox: true });
    const proxy = { kind: 'custom', url: 'https://auth.example.org', local: false, name: 'auth.example.org' } as const;
    assert.ok(isOffered(ticktick, undefined) && isOffered(ticktick, 'http://127.0.0.1:8765'));
    assert.ok(!isOffered(sandbox, undefined), 'VS Code not configured for a local provider');
    assert.ok(!isOffered(sandbox, ''), 'an empty override is none');
    assert.ok(isOffered(sandbox, 'http://127.0.0.1:8765/'));
    assert.ok(!isOffered(sandbox, 'http://127.0.0.1:9999'), "another sandbox (login --sandbox's own port)");
    assert.ok(!isOffered(sandbox, 'https://ticktick.com'));
    assert.ok(!isOffered(unknownLocal, undefined));
    assert.ok(isOffered(unknownLocal, 'http://127.0.0.1:9999'), 'an unknown local URL matches any local provider');
    assert.ok(!isOffered(unknownLocal, 'https://auth.example.org'));
    assert.ok(isOffered(proxy, 'https://auth.example.org') && !isOffered(proxy, undefined));
  });

  it('filters by account label (or id) and puts the configured profile first', () => {
    const a = sessionOf(token('a', 'tasks:read'), plain);
    const b = sessionOf(token('b', 'tasks:read'), plain);
    const ids = (options: Parameters<typeof filterSessions>[3]) =>
      filterSessions([a, b], undefined, 1000, options).map((s) => s.id);
    assert.deepEqual(ids({}), ['a', 'b']);
    assert.deepEqual(ids({ first: 'b' }), ['b', 'a']);
    assert.deepEqual(ids({ account: { id: 'x', label: 'b (TickTick)' } }), ['b']);
    assert.deepEqual(ids({ account: { id: 'a', label: 'a (Dida365)' } }), ['a']);
    assert.deepEqual(ids({ account: { id: 'nobody', label: 'nobody' } }), []);
  });

  it('filters by every requested scope in any order, and drops expired sessions', () => {
    const both = sessionOf(token('a', 'tasks:read tasks:write'), plain);
    const readOnly = sessionOf(token('b', 'tasks:read'), plain);
    const expired = sessionOf(token('c', 'tasks:read tasks:write', 100), plain);
    const ids = (scopes?: string[]) => filterSessions([both, readOnly, expired], scopes, 1000).map((s) => s.id);
    assert.deepEqual(ids(), ['a', 'b']);
    assert.deepEqual(ids([]), ['a', 'b']);
    assert.deepEqual(ids(['tasks:write', 'tasks:read']), ['a']);
    assert.deepEqual(ids(['tasks:read']), ['a', 'b']);
    assert.deepEqual(ids(['tasks:write']), ['a']);
    assert.deepEqual(ids(['other']), []);
  });

  it('diffs two session lists into added, removed and changed', () => {
    const map = (...sessions: TickTickSession[]) => new Map(sessions.map((s) => [s.id, s]));
    const a1 = sessionOf(token('a', 'tasks:read', 1), plain);
    const a2 = sessionOf(token('a', 'tasks:read', 2), plain);
    const b = sessionOf(token('b', 'tasks:read'), plain);
    const c = sessionOf(token('c', 'tasks:read'), plain);
    const change = diffSessions(map(a1, b), map(a2, c));
    assert.deepEqual(
      change.added.map((s) => s.id),
      ['c'],
    );
    assert.deepEqual(
      change.removed.map((s) => s.id),
      ['b'],
    );
    assert.deepEqual(
      change.changed.map((s) => s.id),
      ['a'],
    );
    assert.deepEqual(diffSessions(map(a1, b), map(a1, b)), { added: [], removed: [], changed: [] });
  });

  it('a forwarded redirect reaches the listener only at the same loopback port and path', () => {
    const registered = 'http://127.0.0.1:8080/callback';
    assert.ok(forwardsAsIs(registered, registered));
    assert.ok(forwardsAsIs(registered, 'http://localhost:8080/callback'));
    assert.ok(!forwardsAsIs(registered, 'http://localhost:8081/callback'), 'another local port');
    assert.ok(!forwardsAsIs(registered, 'https://code.example.net/proxy/8080/callback'), 'a code-server proxy path');
    assert.ok(!forwardsAsIs(registered, 'http://127.0.0.1:3000/proxy/8080/callback'), 'the proxy on the same host');
    assert.ok(!forwardsAsIs(registered, 'https://localhost:8080/callback'), 'https');
    assert.ok(!forwardsAsIs('http://127.0.0.2:8080/', 'http://localhost:8080/'), 'another loopback address');
    assert.ok(
      isLoopbackUrl('http://127.0.0.1:8080/') && isLoopbackUrl('http://localhost/') && isLoopbackUrl('http://[::1]:9/'),
    );
    assert.ok(
      !isLoopbackUrl('https://example.com/callback') &&
        !isLoopbackUrl('https://127.0.0.1/') &&
        !isLoopbackUrl('nonsense'),
    );
  });
});
