// What the status-bar item and "Show Status" say, computed from the helper's getStatus result.
// Pure functions (no `vscode`), so the wording and the 7-day warning are tested on their own.

import { StatusResult, TokenExpiringParams } from './helper/protocol';
import { issuerOf } from './sessions';

export const WARN_DAYS = 7;
const DAY = 86_400;

export interface StatusView {
  text: string;
  tooltip: string;
  /** Show with the warning background. */
  warning: boolean;
  /** Command run when the item is clicked. */
  command: 'ticktick.signIn' | 'ticktick.showStatus';
}

export function daysLeft(expiresIn: number): number {
  return Math.floor(Math.max(0, expiresIn) / DAY);
}

export function formatDate(unixSeconds: number): string {
  return new Date(unixSeconds * 1000).toISOString().slice(0, 10);
}

function leftText(expiresIn: number): string {
  const days = daysLeft(expiresIn);
  if (days >= 1) {
    return `${days} day${days === 1 ? '' : 's'} left`;
  }
  const hours = Math.floor(Math.max(0, expiresIn) / 3600);
  return hours >= 1 ? `${hours} hour${hours === 1 ? '' : 's'} left` : 'less than an hour left';
}

/** The status-bar item for a status; `problem` when the helper cannot be asked. */
export function statusView(status: StatusResult | undefined, problem?: 'unavailable' | 'stopped'): StatusView {
  if (problem === 'stopped') {
    return {
      text: '$(warning) TickTick: helper stopped',
      tooltip: 'The ticktick-signon helper stopped unexpectedly; it is being started again. Click to check.',
      warning: true,
      command: 'ticktick.showStatus',
    };
  }
  if (problem === 'unavailable' || !status) {
    return {
      text: '$(error) TickTick: helper missing',
      tooltip: 'The ticktick-signon helper could not be started. Click for details.',
      warning: true,
      command: 'ticktick.showStatus',
    };
  }
  if (status.signedIn && status.expiresIn !== null && status.expiresAt !== null) {
    const left = leftText(status.expiresIn);
    const warning = status.expiresIn < WARN_DAYS * DAY;
    return {
      text: `${warning ? '$(warning)' : '$(pass)'} TickTick: ${left}`,
      tooltip: `Signed in to ${issuerOf(status).name} (profile ${status.profile}) until ${formatDate(status.expiresAt)}${
        warning ? '. Sign in again soon.' : '.'
      }`,
      warning,
      command: warning ? 'ticktick.signIn' : 'ticktick.showStatus',
    };
  }
  if (status.expiresAt !== null) {
    return {
      text: '$(warning) TickTick: Sign in again',
      tooltip: `Your TickTick token (profile ${status.profile}) expired on ${formatDate(status.expiresAt)}. Click to sign in.`,
      warning: true,
      command: 'ticktick.signIn',
    };
  }
  return {
    text: '$(sign-in) TickTick: Sign in',
    tooltip: `Not signed in to TickTick (profile ${status.profile}). Click to sign in.`,
    warning: false,
    command: 'ticktick.signIn',
  };
}

/** One paragraph for "Show Status". */
export function describeStatus(status: StatusResult): string {
  const parts: string[] = [];
  if (status.signedIn && status.expiresIn !== null && status.expiresAt !== null) {
    parts.push(
      `Signed in to ${issuerOf(status).name} (profile "${status.profile}"), token valid until ${formatDate(status.expiresAt)} (${leftText(status.expiresIn)}).`,
    );
  } else if (status.expiresAt !== null) {
    parts.push(
      `Not signed in to TickTick (profile "${status.profile}"): the token expired on ${formatDate(status.expiresAt)}.`,
    );
  } else {
    parts.push(`Not signed in to TickTick (profile "${status.profile}").`);
  }
  if (status.pendingSignon) {
    parts.push('A sign-in is waiting for its redirect URL.');
  }
  if (status.clientId) {
    parts.push(`Client ID: ${status.clientId}; region: ${status.region ?? 'ticktick'}.`);
  }
  parts.push(`Cache: ${status.configPath}`);
  return parts.join(' ');
}

/** The warning `tokenExpiring` brings: how long is left, until when, and what to do. */
export function expiringMessage(params: TokenExpiringParams): string {
  return `Your TickTick sign-in (profile "${params.profile}") ends in ${leftText(params.expiresIn).replace(/ left$/, '')}, on ${formatDate(
    params.expiresAt,
  )}. Sign in again to keep scripts and extensions working.`;
}
