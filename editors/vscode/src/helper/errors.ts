// Errors of the helper client and their human wording: one class per way a request can fail,
// and describeError(), which turns any of them into a sentence a person can act on.

import { ErrorCode, WireError } from './protocol';

/** The helper answered a request with a JSON-RPC error. */
export class HelperError extends Error {
  readonly code: number;
  readonly kind: string;
  readonly data: Record<string, unknown>;

  constructor(error: WireError) {
    super(error.message);
    this.name = 'HelperError';
    this.code = error.code;
    this.data = { ...(error.data ?? {}) };
    this.kind = typeof this.data.kind === 'string' ? this.data.kind : 'unknown';
  }
}

/** Why the helper process could not be started at all. */
export type UnavailableReason =
  'notFound' | 'notExecutable' | 'exitedAtStart' | 'badCommand' | 'spawnFailed' | 'noPython';

/**
 * The helper could not be started: no Python 3.10+ for the bundled one (`noPython`, `detail` says what was
 * tried), or the command was not found, is not executable, or exited before answering.
 */
export class HelperUnavailableError extends Error {
  constructor(
    readonly command: string,
    readonly reason: UnavailableReason,
    readonly detail: string,
    readonly exitCode: number | null = null,
    /** The helper bundled in the extension, not a `ticktick.helperCommand`. */
    readonly bundled = false,
  ) {
    super(`The sign-on helper (${command}) could not be started: ${detail}`);
    this.name = 'HelperUnavailableError';
  }
}

/** A running helper went away while a request was in flight; the next request starts a new one. */
export class HelperExitedError extends Error {
  constructor(
    readonly exitCode: number | null,
    readonly signal: string | null,
  ) {
    super(`The sign-on helper stopped unexpectedly (${signal ? `signal ${signal}` : `exit code ${exitCode}`}).`);
    this.name = 'HelperExitedError';
  }
}

/** What a front end should offer next to the message. */
export type Suggestion = 'signIn' | 'install' | 'installPython' | 'showLog' | 'settings' | 'paste';

export interface ErrorDescription {
  message: string;
  suggestion?: Suggestion;
}

const HOW_TO_SIGN_IN = 'Run "TickTick: Sign In"';

/**
 * A sentence for a person, built from the error's code and non-secret data only
 * (the helper promises its messages hold no secret; ours are fixed text).
 */
export function describeError(error: unknown): ErrorDescription {
  if (error instanceof HelperUnavailableError && error.reason === 'noPython') {
    return {
      message: `TickTick Sign-On needs Python 3.10 or later to run its helper, and found none. Tried: ${error.detail}.`,
      suggestion: 'installPython',
    };
  }
  if (error instanceof HelperUnavailableError) {
    const why: Record<UnavailableReason, string> = {
      notFound: 'the command was not found',
      notExecutable: 'the command is not executable',
      exitedAtStart: `it exited at once${error.exitCode !== null ? ` (exit code ${error.exitCode})` : ''}`,
      badCommand: 'the command setting is empty or malformed',
      spawnFailed: error.detail,
      noPython: error.detail,
    };
    if (error.bundled) {
      return {
        message: `Could not start the TickTick sign-on helper bundled with the extension (${error.command}): ${why[error.reason]}. See the "TickTick Sign-On" log.`,
        suggestion: 'showLog',
      };
    }
    return {
      message: `Could not start the TickTick sign-on helper "${error.command}": ${why[error.reason]}. Install ticktick-signon or point the "ticktick.helperCommand" setting at it.`,
      suggestion: 'install',
    };
  }
  if (error instanceof HelperExitedError) {
    return {
      message:
        'The TickTick sign-on helper stopped unexpectedly; it will be started again on the next TickTick command.',
      suggestion: 'showLog',
    };
  }
  if (!(error instanceof HelperError)) {
    return {
      message: 'TickTick sign-on hit an unexpected error; see the "TickTick Sign-On" log.',
      suggestion: 'showLog',
    };
  }
  const data = error.data;
  switch (error.code) {
    case ErrorCode.notSignedIn:
      return { message: `You are not signed in to TickTick. ${HOW_TO_SIGN_IN}.`, suggestion: 'signIn' };
    case ErrorCode.tokenExpired:
      return { message: `Your TickTick sign-in has expired. ${HOW_TO_SIGN_IN} again.`, suggestion: 'signIn' };
    case ErrorCode.noPendingSignon:
      return {
        message: `That sign-in link is no longer valid (already used, or older than 10 minutes). ${HOW_TO_SIGN_IN} again.`,
        suggestion: 'signIn',
      };
    case ErrorCode.stateMismatch:
      return {
        message:
          'That redirect URL belongs to another sign-in attempt. Paste the URL from your latest attempt, or sign in again.',
        suggestion: 'paste',
      };
    case ErrorCode.authorizationDenied: {
      const reason = typeof data.error === 'string' && data.error !== 'access_denied' ? ` (${data.error})` : '';
      return {
        message: `TickTick did not grant access${reason}: the request was denied in the browser. ${HOW_TO_SIGN_IN} and choose Allow.`,
        suggestion: 'signIn',
      };
    }
    case ErrorCode.tokenExchangeFailed: {
      const parts = [
        typeof data.status === 'number' ? `HTTP ${data.status}` : '',
        typeof data.error === 'string' ? data.error : '',
      ]
        .filter(Boolean)
        .join(', ');
      return {
        message: `TickTick refused to issue a token${parts ? ` (${parts})` : ''}. Check the client ID and secret, and that the redirect URL matches your app's setting.`,
        suggestion: 'signIn',
      };
    }
    case ErrorCode.networkError:
      return {
        message: 'Could not reach the sign-in provider. Check your network connection (or proxy) and try again.',
      };
    case ErrorCode.providerError:
      return { message: "The provider's answer did not say whether the token works; try again later." };
    case ErrorCode.issuerMismatch: {
      // The profile belongs to another provider than this VS Code's helper signs in to: nothing was sent.
      const name = (value: unknown): string =>
        typeof value === 'object' && value !== null && typeof (value as { name?: unknown }).name === 'string'
          ? (value as { name: string }).name
          : 'another provider';
      const profile = typeof data.profile === 'string' ? ` "${data.profile}"` : '';
      return {
        message: `The profile${profile} belongs to ${name(data.issuer)}, but this VS Code signs in to ${name(data.provider)}, so its token was not sent. Sign in to that profile again, or choose another profile in the settings.`,
        suggestion: 'settings',
      };
    }
    case ErrorCode.configUnreadable: {
      const where = typeof data.path === 'string' ? ` (${data.path})` : '';
      return {
        message: `The TickTick sign-on cache file${where} cannot be read. Fix or delete it, then try again.`,
      };
    }
    case ErrorCode.invalidParams: {
      const missing = Array.isArray(data.missing) ? (data.missing as unknown[]).map(String) : [];
      if (missing.length > 0) {
        return { message: `TickTick sign-in needs: ${missing.join(', ')}.`, suggestion: 'settings' };
      }
      // The helper's own sentence is specific (which field, what to do) and never holds a secret.
      return { message: error.message };
    }
    case ErrorCode.requestCancelled:
      return { message: 'The TickTick request was cancelled.' };
    case ErrorCode.methodNotFound:
    case ErrorCode.invalidRequest:
    case ErrorCode.parseError:
      return {
        message:
          'The TickTick sign-on helper does not understand this extension. Update ticktick-signon and the extension to matching versions.',
        suggestion: 'install',
      };
    case ErrorCode.internalError:
      return {
        message: 'The TickTick sign-on helper hit an unexpected error; see its log, then try again.',
        suggestion: 'showLog',
      };
    default:
      return { message: error.message, suggestion: 'showLog' };
  }
}
