// The wording a person sees: every documented error code maps to an actionable sentence with no
// secret in it, and the status bar counts days and warns under a week. Pure functions, no helper.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { describeError, HelperError, HelperExitedError, HelperUnavailableError } from '../../src/helper/errors';
import { ErrorCode, StatusResult } from '../../src/helper/protocol';
import { describeStatus, statusView } from '../../src/statusView';

const SECRETISH = 'sup3r-s3cret-t0ken';

describe('describeError', () => {
  for (const [kind, code] of Object.entries(ErrorCode)) {
    it(`${kind} (${code}) becomes a sentence without the helper's raw data`, () => {
      const error = new HelperError({
        code,
        message: `raw ${SECRETISH}`,
        data: { kind, status: 401, error: 'invalid_client', path: '/tmp/x.json' },
      });
      const { message } = describeError(error);
      if (code === ErrorCode.invalidParams) {
        // The one case that shows the helper's own sentence (which field is wrong); it holds no secret by contract.
        assert.equal(message, error.message);
      } else {
        assert.match(message, /[.)]$/);
        assert.ok(!message.includes(SECRETISH), `${kind} echoes the helper's message`);
      }
    });
  }

  it('names the missing credentials of invalidParams', () => {
    const error = new HelperError({
      code: -32602,
      message: 'x',
      data: { kind: 'invalidParams', missing: ['clientId', 'clientSecret'] },
    });
    assert.deepEqual(describeError(error), {
      message: 'TickTick sign-in needs: clientId, clientSecret.',
      suggestion: 'settings',
    });
  });

  it('gives the exchange status, and the cache path, which are not secret', () => {
    const exchange = new HelperError({
      code: -32006,
      message: 'x',
      data: { kind: 'tokenExchangeFailed', status: 400, error: 'invalid_grant' },
    });
    assert.match(describeError(exchange).message, /\(HTTP 400, invalid_grant\)/);
    const config = new HelperError({
      code: -32008,
      message: 'x',
      data: { kind: 'configUnreadable', path: '/home/me/.config/ticktick-signon/config.json' },
    });
    assert.match(describeError(config).message, /\(\/home\/me\/.config\/ticktick-signon\/config.json\) cannot be read/);
  });

  it('suggests the next step: sign in, install, show the log', () => {
    assert.equal(
      describeError(new HelperError({ code: -32001, message: '', data: { kind: 'notSignedIn' } })).suggestion,
      'signIn',
    );
    assert.equal(
      describeError(new HelperError({ code: -32004, message: '', data: { kind: 'stateMismatch' } })).suggestion,
      'paste',
    );
    assert.equal(describeError(new HelperUnavailableError('tt serve', 'notFound', 'ENOENT')).suggestion, 'install');
    assert.equal(describeError(new HelperExitedError(1, null)).suggestion, 'showLog');
    assert.equal(describeError(new Error(SECRETISH)).suggestion, 'showLog');
    assert.ok(!describeError(new Error(SECRETISH)).message.includes(SECRETISH));
  });
});

describe('statusView', () => {
  const base: StatusResult = {
    profile: 'default',
    signedIn: true,
    expiresAt: 1_900_000_000,
    expiresIn: 180 * 86_400,
    pendingSignon: false,
    region: 'ticktick',
    clientId: 'abc',
    configPath: '/c/config.json',
  };

  it('shows the days left when signed in', () => {
    assert.deepEqual(statusView(base), {
      text: '$(pass) TickTick: 180 days left',
      tooltip: 'Signed in to TickTick (profile default) until 2030-03-17.',
      warning: false,
      command: 'ticktick.showStatus',
    });
  });

  it('warns under 7 days, down to hours', () => {
    assert.equal(statusView({ ...base, expiresIn: 7 * 86_400 }).warning, false);
    const six = statusView({ ...base, expiresIn: 7 * 86_400 - 1 });
    assert.equal(six.text, '$(warning) TickTick: 6 days left');
    assert.equal(six.warning, true);
    assert.equal(six.command, 'ticktick.signIn');
    assert.equal(statusView({ ...base, expiresIn: 86_400 }).text, '$(warning) TickTick: 1 day left');
    assert.equal(statusView({ ...base, expiresIn: 5 * 3600 }).text, '$(warning) TickTick: 5 hours left');
    assert.equal(statusView({ ...base, expiresIn: 59 }).text, '$(warning) TickTick: less than an hour left');
  });

  it('calls to sign in when signed out or expired, and tells when the helper is gone', () => {
    const out = statusView({ ...base, signedIn: false, expiresAt: null, expiresIn: null });
    assert.equal(out.text, '$(sign-in) TickTick: Sign in');
    assert.equal(out.command, 'ticktick.signIn');
    const expired = statusView({ ...base, signedIn: false, expiresIn: 0 });
    assert.equal(expired.text, '$(warning) TickTick: Sign in again');
    assert.equal(expired.warning, true);
    assert.equal(statusView(undefined, 'unavailable').text, '$(error) TickTick: helper missing');
    assert.equal(statusView(base, 'stopped').text, '$(warning) TickTick: helper stopped');
  });

  it('describes the status in one paragraph without secrets', () => {
    assert.equal(
      describeStatus({ ...base, pendingSignon: true }),
      'Signed in to TickTick (profile "default"), token valid until 2030-03-17 (180 days left). A sign-in is waiting for its redirect URL. Client ID: abc; region: ticktick. Cache: /c/config.json',
    );
  });
});
