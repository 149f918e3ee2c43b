// The helper's wire contract (issue 2, docs/protocol.md): method names, params, results and error codes.
// Kept as plain types so the client, the commands and the tests share one definition.

export type Region = 'ticktick' | 'dida365';

export interface StartSignonParams {
  clientId?: string;
  clientSecret?: string;
  redirectUrl?: string;
  profile?: string;
  region?: Region;
  listen?: boolean;
}

export interface StartSignonResult {
  authorizeUrl: string;
  state: string;
  redirectUrl: string;
  profile: string;
  listening: boolean;
  /** Unix seconds after which the state is dead. */
  stateExpiresAt: number;
}

export interface CompleteSignonParams {
  redirectUrl: string;
  profile?: string;
}

export interface GetTokenParams {
  profile?: string;
  minValidSeconds?: number;
}

export interface TokenResult {
  accessToken: string;
  tokenType: string;
  scope: string;
  /** Unix seconds. */
  expiresAt: number;
  expiresIn: number;
  profile: string;
}

export interface ProfileParams {
  profile?: string;
}

export interface StatusResult {
  profile: string;
  signedIn: boolean;
  expiresAt: number | null;
  expiresIn: number | null;
  pendingSignon: boolean;
  region: Region | null;
  clientId: string | null;
  /** The profile signed in to a local stand-in provider (equals issuer.local); older helpers may omit it. */
  sandbox?: boolean;
  /**
   * Who issued the profile's token (the trust record): null when nothing is recorded. Absent from helpers
   * older than that record; clients then fall back to `sandbox` and `region`.
   */
  issuer?: Issuer | null;
  configPath: string;
}

/** The provider a profile signed in to, as getStatus reports it. */
export interface Issuer {
  kind: 'ticktick' | 'dida365' | 'custom';
  /** The provider's auth base URL; null when it is not known (a cache older than the record). */
  url: string | null;
  /** A provider on a loopback address: the sandbox or another local stand-in. */
  local: boolean;
  /** What a person reads: "TickTick", "Dida365", "the sandbox", or a custom provider's host name. */
  name: string;
}

export interface SignOutParams {
  profile?: string;
  forget?: boolean;
}

export interface SignOutResult {
  signedOut: boolean;
}

export interface WireError {
  code: number;
  message: string;
  data?: { kind?: string; [key: string]: unknown };
}

export interface SignonCompletedParams {
  profile: string;
  expiresAt: number;
}

export interface SignonFailedParams {
  profile: string;
  error: WireError;
}

/** Pushed by the helper when a profile's token is added, replaced, removed or passes its expiry, by anyone. */
export interface TokenChangedParams {
  profile: string;
  signedIn: boolean;
  /** Unix seconds; null when signed out. The token itself is never sent: ask getToken. */
  expiresAt: number | null;
}

/** Pushed once when fewer than 7 days are left, and once more under 24 hours. */
export interface TokenExpiringParams {
  profile: string;
  expiresAt: number;
  expiresIn: number;
}

/** Every error code the helper documents; clients branch on these, never on message text. */
export const ErrorCode = {
  parseError: -32700,
  invalidRequest: -32600,
  methodNotFound: -32601,
  invalidParams: -32602,
  internalError: -32603,
  requestCancelled: -32800,
  notSignedIn: -32001,
  tokenExpired: -32002,
  noPendingSignon: -32003,
  stateMismatch: -32004,
  authorizationDenied: -32005,
  tokenExchangeFailed: -32006,
  networkError: -32007,
  configUnreadable: -32008,
  providerError: -32009,
  issuerMismatch: -32010,
} as const;

export type ErrorKind = keyof typeof ErrorCode;

export const DEFAULT_REDIRECT_URL = 'http://127.0.0.1:8080/';
