// Suite 1: the helper client against the real Python helper (`ticktick-signon serve` as a subprocess)
// and the real sandbox provider over loopback HTTP: both sign-on paths, every reachable error code, restarts.

import assert from 'node:assert/strict';
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { CancellationTokenSource } from 'vscode-jsonrpc/node';

import { HelperClient, SignedIn } from '../../src/helper/client';
import { HelperError, HelperExitedError, HelperUnavailableError } from '../../src/helper/errors';
import { ErrorCode } from '../../src/helper/protocol';
import { waitForSignon } from '../../src/helper/wait';
import {
  approve,
  approveAndFollow,
  CapturingLogger,
  cliArgv,
  freePort,
  hangingServer,
  helperCommand,
  isolatedEnv,
  newClient,
  Sandbox,
  SANDBOX_CLIENT,
  tempDir,
} from '../support/helper';

async function rejectsWith(promise: Promise<unknown>, code: number): Promise<HelperError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof HelperError, `expected a HelperError, got ${String(error)}`);
    assert.equal(error.code, code, `expected ${code}, got ${error.code} (${error.kind}): ${error.message}`);
    assert.equal(typeof error.data.kind, 'string');
    return error;
  }
  assert.fail(`expected the request to fail with ${code}`);
}

describe('helper client against the real helper and sandbox', () => {
  let sandbox: Sandbox;
  let config: { path: string; remove(): void };
  let log: CapturingLogger;
  let client: HelperClient;
  const tokensSeen: string[] = [];

  before(async () => {
    sandbox = await Sandbox.start();
  });
  after(async () => {
    await sandbox.stop();
  });
  beforeEach(() => {
    config = tempDir('tt-client-');
    log = new CapturingLogger();
    client = newClient(isolatedEnv(config.path, sandbox.baseUrl), log);
  });
  afterEach(async () => {
    await client.stop();
    config.remove();
    // Nothing secret ever reaches the log: not the client secret, not a token.
    const logged = log.lines.join('\n');
    assert.ok(!logged.includes(SANDBOX_CLIENT.clientSecret), 'the client secret was logged');
    for (const token of tokensSeen) {
      assert.ok(!logged.includes(token), 'a token was logged');
    }
  });

  async function redirectUrl(): Promise<string> {
    return `http://127.0.0.1:${await freePort()}/callback`;
  }

  it('signs in through the paste path (listen: false) and hands out the token', async () => {
    const events: SignedIn[] = [];
    client.onDidSignIn((event) => events.push(event));
    const started = await client.startSignon({ ...SANDBOX_CLIENT, redirectUrl: await redirectUrl(), listen: false });
    assert.equal(started.listening, false);
    assert.equal(started.profile, 'default');
    assert.match(started.authorizeUrl, new RegExp(`^${sandbox.baseUrl}/oauth/authorize\\?`));
    assert.ok(!started.authorizeUrl.includes(SANDBOX_CLIENT.clientSecret), 'the secret is in the authorize URL');

    const location = await approve(started.authorizeUrl, 'allow');
    assert.match(location, /[?&]code=/);
    const token = await client.completeSignon({ redirectUrl: location });
    tokensSeen.push(token.accessToken);
    assert.equal(token.profile, 'default');
    assert.ok(token.expiresAt > Date.now() / 1000 + 86_400 * 100, 'the sandbox issues six-month tokens');
    assert.ok(await sandbox.acceptsToken(token.accessToken), 'the sandbox does not accept the token');
    assert.deepEqual(events, [{ profile: 'default', expiresAt: token.expiresAt, via: 'paste' }]);

    const again = await client.getToken();
    assert.equal(again.accessToken, token.accessToken);
    const status = await client.getStatus({ profile: 'default' });
    assert.equal(status.signedIn, true);
    assert.equal(status.clientId, SANDBOX_CLIENT.clientId);
    assert.equal(status.pendingSignon, false);
    assert.equal(JSON.stringify(status).includes(SANDBOX_CLIENT.clientSecret), false);
  });

  it('signs in through the loopback path: the browser reaches the helper, which notifies the client', async () => {
    const started = await client.startSignon({ ...SANDBOX_CLIENT, redirectUrl: await redirectUrl(), profile: 'work' });
    assert.equal(started.listening, true);
    const outcome = waitForSignon(client, 'work', started.stateExpiresAt);
    const page = await approveAndFollow(started.authorizeUrl, 'allow');
    assert.equal(page.status, 200);
    assert.match(page.title, /Signed in/);
    const result = await outcome;
    assert.equal(result.kind, 'signedIn');
    assert.ok(result.kind === 'signedIn' && result.via === 'loopback');
    const token = await client.getToken({ profile: 'work' });
    tokensSeen.push(token.accessToken);
    assert.equal(token.expiresAt, result.kind === 'signedIn' ? result.expiresAt : -1);
    assert.ok(await sandbox.acceptsToken(token.accessToken));
    // The other profile is untouched.
    await rejectsWith(client.getToken({ profile: 'default' }), ErrorCode.notSignedIn);
  });

  it('a denial caught by the loopback listener arrives as signonFailed (authorizationDenied)', async () => {
    const started = await client.startSignon({ ...SANDBOX_CLIENT, redirectUrl: await redirectUrl() });
    assert.equal(started.listening, true);
    const outcome = waitForSignon(client, 'default', started.stateExpiresAt);
    const page = await approveAndFollow(started.authorizeUrl, 'deny');
    assert.equal(page.status, 400, 'the listener shows the browser an error page');
    const result = await outcome;
    assert.equal(result.kind, 'failed');
    assert.ok(result.kind === 'failed' && result.error.code === ErrorCode.authorizationDenied);
  });

  it('stops waiting when cancelled, when the state is dead, or when the helper dies', async () => {
    const source = new CancellationTokenSource();
    const cancelled = waitForSignon(client, 'default', Date.now() / 1000 + 600, source.token);
    source.cancel();
    assert.deepEqual(await cancelled, { kind: 'cancelled' });
    // A state already dead: the wait gives the helper's own notice 5 s, then ends by itself.
    const started = Date.now();
    assert.deepEqual(await waitForSignon(client, 'default', Date.now() / 1000 - 60), { kind: 'expired' });
    assert.ok(Date.now() - started >= 4900);
    await client.getStatus();
    const dying = waitForSignon(client, 'default', Date.now() / 1000 + 600);
    process.kill(client.pid!, 'SIGKILL');
    assert.deepEqual(await dying, { kind: 'helperExited' });
  });

  it('sends requests without params, as vscode-jsonrpc does when there are none', async () => {
    const status = await client.request<{ profile: string; signedIn: boolean }>('getStatus');
    assert.equal(status.profile, 'default');
    assert.equal(status.signedIn, false);
  });

  it('signs out, and then reports notSignedIn', async () => {
    const started = await client.startSignon({ ...SANDBOX_CLIENT, redirectUrl: await redirectUrl(), listen: false });
    tokensSeen.push((await client.completeSignon({ redirectUrl: await approve(started.authorizeUrl) })).accessToken);
    assert.deepEqual(await client.signOut({}), { signedOut: true });
    await rejectsWith(client.getToken(), ErrorCode.notSignedIn);
    assert.deepEqual(await client.signOut({}), { signedOut: false });
    // Without forget the app is remembered: a new sign-in needs no credentials.
    const again = await client.startSignon({ listen: false });
    assert.equal(again.profile, 'default');
    await client.signOut({ forget: true });
    await rejectsWith(client.startSignon({ listen: false }), ErrorCode.invalidParams);
  });

  describe('every error code a client can meet', () => {
    it('invalidParams (-32602): missing credentials, listed in data.missing', async () => {
      const error = await rejectsWith(client.startSignon({}), ErrorCode.invalidParams);
      assert.deepEqual([...(error.data.missing as string[])].sort(), ['clientId', 'clientSecret']);
    });

    it('invalidParams (-32602): a redirect URL that is not an absolute http(s) URL', async () => {
      await rejectsWith(client.completeSignon({ redirectUrl: 'not a url' }), ErrorCode.invalidParams);
    });

    it('methodNotFound (-32601)', async () => {
      await rejectsWith(client.request('noSuchMethod', {}), ErrorCode.methodNotFound);
    });

    it('notSignedIn (-32001)', async () => {
      await rejectsWith(client.getToken(), ErrorCode.notSignedIn);
    });

    it('tokenExpired (-32002): a token that is not valid long enough', async () => {
      const started = await client.startSignon({ ...SANDBOX_CLIENT, redirectUrl: await redirectUrl(), listen: false });
      const token = await client.completeSignon({ redirectUrl: await approve(started.authorizeUrl) });
      tokensSeen.push(token.accessToken);
      await rejectsWith(client.getToken({ minValidSeconds: token.expiresIn + 3600 }), ErrorCode.tokenExpired);
    });

    it('noPendingSignon (-32003): a redirect when nothing is pending, or used twice', async () => {
      await rejectsWith(
        client.completeSignon({ redirectUrl: 'http://127.0.0.1:8080/?code=abc&state=nothing-started' }),
        ErrorCode.noPendingSignon,
      );
      const started = await client.startSignon({ ...SANDBOX_CLIENT, redirectUrl: await redirectUrl(), listen: false });
      const location = await approve(started.authorizeUrl);
      tokensSeen.push((await client.completeSignon({ redirectUrl: location })).accessToken);
      await rejectsWith(client.completeSignon({ redirectUrl: location }), ErrorCode.noPendingSignon);
    });

    it('stateMismatch (-32004): a redirect from another attempt while one is pending', async () => {
      const started = await client.startSignon({ ...SANDBOX_CLIENT, redirectUrl: await redirectUrl(), listen: false });
      await rejectsWith(
        client.completeSignon({ redirectUrl: `${started.redirectUrl}?code=abc&state=not-${started.state}` }),
        ErrorCode.stateMismatch,
      );
    });

    it('authorizationDenied (-32005): the user clicked Deny', async () => {
      const started = await client.startSignon({ ...SANDBOX_CLIENT, redirectUrl: await redirectUrl(), listen: false });
      const error = await rejectsWith(
        client.completeSignon({ redirectUrl: await approve(started.authorizeUrl, 'deny') }),
        ErrorCode.authorizationDenied,
      );
      assert.equal(error.data.error, 'access_denied');
    });

    it('tokenExchangeFailed (-32006): a wrong client secret', async () => {
      const started = await client.startSignon({
        clientId: SANDBOX_CLIENT.clientId,
        clientSecret: 'wrong-secret',
        redirectUrl: await redirectUrl(),
        listen: false,
      });
      const error = await rejectsWith(
        client.completeSignon({ redirectUrl: await approve(started.authorizeUrl) }),
        ErrorCode.tokenExchangeFailed,
      );
      assert.equal(error.data.status, 401);
      assert.ok(!error.message.includes('wrong-secret'));
      // A failed attempt saves nothing.
      assert.equal((await client.getStatus()).clientId, null);
    });

    it('networkError (-32007): the token endpoint refuses connections', async () => {
      const closedPort = await freePort();
      const offline = newClient(isolatedEnv(config.path, `http://127.0.0.1:${closedPort}`), log);
      try {
        const started = await offline.startSignon({
          ...SANDBOX_CLIENT,
          redirectUrl: await redirectUrl(),
          listen: false,
        });
        await rejectsWith(
          offline.completeSignon({ redirectUrl: `${started.redirectUrl}?code=abc&state=${started.state}` }),
          ErrorCode.networkError,
        );
      } finally {
        await offline.stop();
      }
    });

    it('configUnreadable (-32008): a cache file that is not JSON, named in data.path', async () => {
      mkdirSync(config.path, { recursive: true });
      const file = join(config.path, 'config.json');
      writeFileSync(file, '{ this is not json', { mode: 0o600 });
      const error = await rejectsWith(client.getStatus(), ErrorCode.configUnreadable);
      assert.equal(error.data.path, file);
    });

    it('requestCancelled (-32800) for a queued request, and networkError (-32007) on a token endpoint timeout', async () => {
      // Four completeSignon calls hang on the token endpoint and fill the helper's four workers;
      // a fifth waits in the queue, where cancelling it works.
      const hanging = await hangingServer();
      const slow = newClient(isolatedEnv(config.path, hanging.url, { TICKTICK_SIGNON_HTTP_TIMEOUT: '4' }), log);
      try {
        const redirects: string[] = [];
        for (const profile of ['p1', 'p2', 'p3', 'p4', 'p5']) {
          const started = await slow.startSignon({
            ...SANDBOX_CLIENT,
            redirectUrl: await redirectUrl(),
            profile,
            listen: false,
          });
          redirects.push(`${started.redirectUrl}?code=abc&state=${started.state}`);
        }
        const busy = redirects.slice(0, 4).map((url) => slow.completeSignon({ redirectUrl: url }));
        for (const p of busy) {
          p.catch(() => undefined);
        }
        await new Promise((resolve) => setTimeout(resolve, 500));
        const source = new CancellationTokenSource();
        const queued = slow.completeSignon({ redirectUrl: redirects[4] }, source.token);
        await new Promise((resolve) => setTimeout(resolve, 200));
        source.cancel();
        await rejectsWith(queued, ErrorCode.requestCancelled);
        for (const pending of busy) {
          await rejectsWith(pending, ErrorCode.networkError);
        }
      } finally {
        await slow.stop();
        await hanging.close();
      }
    });
  });

  describe('process lifecycle', () => {
    it('notices a killed helper and starts a new one on the next request', async () => {
      await client.getStatus();
      const first = client.pid;
      assert.ok(first);
      const exited = new Promise((resolve) => client.onDidExitUnexpectedly(resolve));
      process.kill(first, 'SIGKILL');
      assert.deepEqual(await exited, { code: null, signal: 'SIGKILL' });
      assert.equal(client.pid, undefined);
      const status = await client.getStatus();
      assert.equal(status.signedIn, false);
      assert.ok(client.pid && client.pid !== first, 'no new helper was started');
      assert.ok(log.lines.some((line) => line.startsWith('warn The helper exited unexpectedly')));
    });

    it('with a restart policy, starts a new helper by itself after a crash, backing off, and gives up in the end', async () => {
      const policy = { initialDelayMs: 100, maxDelayMs: 400, maxAttempts: 3, stableAfterMs: 60_000 };
      const restarting = new HelperClient({
        command: helperCommand(),
        env: isolatedEnv(config.path, sandbox.baseUrl),
        log,
        restart: policy,
      });
      try {
        await restarting.getStatus();
        const first = restarting.pid!;
        const restarted = new Promise<void>((resolve) => restarting.onDidRestart(resolve));
        process.kill(first, 'SIGKILL');
        await restarted;
        assert.ok(restarting.pid && restarting.pid !== first, 'a new helper runs without any request');
        // Crashing again at once doubles the delay.
        const again = new Promise<void>((resolve) => restarting.onDidRestart(resolve));
        process.kill(restarting.pid, 'SIGKILL');
        await again;
        const delays = log.lines.filter((l) => l.startsWith('info Restarting the helper in'));
        assert.deepEqual(delays, ['info Restarting the helper in 0.1 s.', 'info Restarting the helper in 0.2 s.']);
      } finally {
        await restarting.stop();
      }

      // A helper that can never start: bounded attempts, then it waits for the next request.
      const argv = cliArgv(['serve']);
      const broken = new HelperClient({
        command: `"${argv[0]}" -m ticktick_signon_no_such_module serve`,
        env: isolatedEnv(config.path),
        log,
        restart: policy,
      });
      try {
        await assert.rejects(broken.getStatus());
        await new Promise((resolve) => setTimeout(resolve, 2500));
        assert.ok(
          log.lines.some((l) => /failed 3 times in a row; it is not restarted/.test(l)),
          log.lines.join('\n'),
        );
      } finally {
        await broken.stop();
      }
    });

    it('fails a request in flight with HelperExitedError when the helper dies under it', async () => {
      const hanging = await hangingServer();
      const slow = newClient(isolatedEnv(config.path, hanging.url, { TICKTICK_SIGNON_HTTP_TIMEOUT: '30' }), log);
      try {
        const started = await slow.startSignon({ ...SANDBOX_CLIENT, redirectUrl: await redirectUrl(), listen: false });
        const inFlight = slow.completeSignon({ redirectUrl: `${started.redirectUrl}?code=abc&state=${started.state}` });
        await new Promise((resolve) => setTimeout(resolve, 500));
        process.kill(slow.pid!, 'SIGKILL');
        await assert.rejects(inFlight, (error) => error instanceof HelperExitedError && error.signal === 'SIGKILL');
        assert.equal((await slow.getStatus()).pendingSignon, false, 'the restarted helper answers');
      } finally {
        await slow.stop();
        await hanging.close();
      }
    });

    it('stops the helper by closing stdin; it exits with status 0', async () => {
      await client.getStatus();
      await client.stop();
      assert.equal(client.pid, undefined);
      assert.ok(log.lines.includes('info The helper stopped (exit code 0).'), log.lines.join('\n'));
    });

    it('reports a helper command that does not exist as HelperUnavailableError (notFound)', async () => {
      const missing = newClient(isolatedEnv(config.path), log, 'ticktick-signon-no-such-command serve');
      await assert.rejects(
        missing.getStatus(),
        (error) => error instanceof HelperUnavailableError && error.reason === 'notFound',
      );
    });

    it('reports a helper that exits at once (exitedAtStart), with its last stderr line', async () => {
      const argv = cliArgv(['serve']);
      const broken = newClient(isolatedEnv(config.path), log, `"${argv[0]}" -m ticktick_signon_no_such_module serve`);
      await assert.rejects(broken.getStatus(), (error) => {
        assert.ok(error instanceof HelperUnavailableError);
        assert.equal(error.reason, 'exitedAtStart');
        assert.equal(error.exitCode, 1);
        assert.match(error.detail, /No module named/);
        return true;
      });
    });

    it('does not keep a helper whose start was under way when stop() came', async () => {
      const request = client.getStatus();
      await client.stop();
      await assert.rejects(
        request,
        (error) => error instanceof HelperUnavailableError && error.reason === 'spawnFailed',
      );
      assert.equal(client.pid, undefined);
      assert.equal((await client.getStatus()).signedIn, false, 'the next request starts a helper again');
    });

    it('rejects an empty helper command (badCommand)', async () => {
      const empty = newClient(isolatedEnv(config.path), log, '   ');
      await assert.rejects(
        empty.getStatus(),
        (error) => error instanceof HelperUnavailableError && error.reason === 'badCommand',
      );
    });

    it('switches to a new command with setCommand', async () => {
      await client.getStatus();
      const first = client.pid;
      await client.setCommand(`${helperCommand()} `);
      assert.equal(client.pid, undefined);
      await client.getStatus();
      assert.notEqual(client.pid, first);
    });
  });
});
