// The `ticktick` authentication provider, over the real helper and sandbox: sessions per profile with their
// scopes, createSession through the sign-in, removeSession through the helper, and onDidChangeSessions for
// our own changes and for a sign-in made by the CLI in another process. Then its pure parts on their own.

import { ExtensionHarness, until } from '../support/harness';
import type { FakeSession, SessionsChange } from '../support/fakeVscode';

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';

import { forwardsAsIs, isLoopbackUrl } from '../../src/forwarding';
import { diffSessions, filterSessions, sessionOf, TickTickSession } from '../../src/sessions';
import { cliArgv, Sandbox, SANDBOX_CLIENT } from '../support/helper';

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

  it('is contributed and registered as "ticktick" / "TickTick", one account per profile', () => {
    assert.deepEqual(manifest.contributes.authentication, [{ id: 'ticktick', label: 'TickTick' }]);
    const registered = h.fake.authProviders;
    assert.equal(registered.length, 1);
    assert.equal(registered[0].id, 'ticktick');
    assert.equal(registered[0].label, 'TickTick');
    assert.equal(registered[0].options?.supportsMultipleAccounts, false);
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
    assert.deepEqual(session.account, { id: 'default', label: 'default (ticktick.com)' });
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
    assert.deepEqual(await h.provider().getSessions(), []);
    await until('the removed event', () => changes.some((c) => c.removed?.some((s) => s.id === 'default')));
    await h.statusText(/TickTick: Sign in$/);
    // The saved credentials stay: the next sign-in asks nothing but the browser.
    const status = cli(['status']);
    assert.match(status.stdout + status.stderr, /sandbox-client/);
  });

  it('a sign-in by the CLI in another process reaches onDidChangeSessions and the status bar', async () => {
    assert.deepEqual(await h.provider().getSessions(), []);
    // `login --sandbox` brings its own provider; the profile is the extension's.
    const done = cli(['login', '--sandbox', '--profile', 'default']);
    assert.equal(done.status, 0, done.stderr);
    await until('the added event', () => changes.some((c) => c.added?.some((s) => s.id === 'default')), 10_000);
    const [session] = await h.provider().getSessions(['tasks:read', 'tasks:write']);
    assert.equal(session.accessToken, cli(['token']).stdout.trim());
    h.secretsSeen.push(session.accessToken);
    await h.statusText(/days left$/);

    // And a sign-out by the CLI.
    assert.equal(cli(['logout']).status, 0);
    await until('the removed event', () => changes.some((c) => c.removed?.some((s) => s.id === 'default')), 10_000);
    await h.statusText(/TickTick: Sign in$/);
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

describe('sessions, pure', () => {
  const token = (profile: string, scope: string, expiresAt = 2_000_000_000) => ({
    accessToken: `token-${profile}-${expiresAt}`,
    tokenType: 'bearer',
    scope,
    expiresAt,
    expiresIn: 0,
    profile,
  });

  it("a session is the profile's token with its scopes, labelled by profile and region", () => {
    const session = sessionOf(token('work', 'tasks:write tasks:read'), 'dida365');
    assert.deepEqual(session, {
      id: 'work',
      accessToken: 'token-work-2000000000',
      account: { id: 'work', label: 'work (dida365.com)' },
      scopes: ['tasks:read', 'tasks:write'],
      expiresAt: 2_000_000_000,
    });
    assert.equal(sessionOf(token('default', 'tasks:read'), null).account.label, 'default (ticktick.com)');
  });

  it('filters by every requested scope in any order, and drops expired sessions', () => {
    const both = sessionOf(token('a', 'tasks:read tasks:write'), null);
    const readOnly = sessionOf(token('b', 'tasks:read'), null);
    const expired = sessionOf(token('c', 'tasks:read tasks:write', 100), null);
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
    const a1 = sessionOf(token('a', 'tasks:read', 1), null);
    const a2 = sessionOf(token('a', 'tasks:read', 2), null);
    const b = sessionOf(token('b', 'tasks:read'), null);
    const c = sessionOf(token('c', 'tasks:read'), null);
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
