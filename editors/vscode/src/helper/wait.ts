// Waiting for a started sign-on to finish: whichever comes first of the loopback listener's
// notification, a pasted redirect URL, a failure, the helper exiting, cancellation or the state expiring.

import { HelperError } from './errors';
import { HelperClient } from './client';

export type WaitOutcome =
  | { kind: 'signedIn'; expiresAt: number; via: 'loopback' | 'paste' }
  | { kind: 'failed'; error: HelperError }
  | { kind: 'helperExited' }
  | { kind: 'cancelled' }
  | { kind: 'expired' };

/** The part of a cancellation token this needs; VS Code's and vscode-jsonrpc's both fit. */
export interface CancellationLike {
  readonly isCancellationRequested: boolean;
  onCancellationRequested(listener: () => void): { dispose(): void };
}

/**
 * Resolve when the sign-on of `profile` ends.
 *
 * @param stateExpiresAt unix seconds when the helper drops the sign-on (startSignon's stateExpiresAt).
 */
export function waitForSignon(
  client: HelperClient,
  profile: string,
  stateExpiresAt: number,
  token?: CancellationLike,
): Promise<WaitOutcome> {
  return new Promise<WaitOutcome>((resolve) => {
    const disposables: { dispose(): void }[] = [];
    let timer: NodeJS.Timeout | undefined;
    const finish = (outcome: WaitOutcome) => {
      disposables.forEach((d) => d.dispose());
      if (timer) {
        clearTimeout(timer);
      }
      resolve(outcome);
    };
    disposables.push(
      client.onDidSignIn((event) => {
        if (event.profile === profile) {
          finish({ kind: 'signedIn', expiresAt: event.expiresAt, via: event.via });
        }
      }),
      client.onDidFailSignon((event) => {
        if (event.profile === profile) {
          finish({ kind: 'failed', error: new HelperError(event.error) });
        }
      }),
      client.onDidExitUnexpectedly(() => finish({ kind: 'helperExited' })),
    );
    if (token) {
      if (token.isCancellationRequested) {
        finish({ kind: 'cancelled' });
        return;
      }
      disposables.push(token.onCancellationRequested(() => finish({ kind: 'cancelled' })));
    }
    // A little past the state's death, so the helper's own signonFailed (expired) can arrive first.
    const ms = Math.max(0, stateExpiresAt * 1000 - Date.now()) + 5000;
    timer = setTimeout(() => finish({ kind: 'expired' }), Math.min(ms, 2 ** 31 - 1));
    // The wait alone must not keep a process alive (a client closed under it sends nothing more).
    timer.unref?.();
  });
}
