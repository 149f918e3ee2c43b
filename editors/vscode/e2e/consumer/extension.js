// End-to-end fixture: an extension that knows nothing of ticktick-signon but the provider id. It asks for a
// session through vscode.authentication and records what it gets and every onDidChangeSessions for
// 'ticktick', one JSON line each, in $TICKTICK_E2E_CONSUMER_LOG (a file in the test's private folder).

const { appendFileSync } = require('fs');
const vscode = require('vscode');

const SCOPES = ['tasks:read', 'tasks:write'];

function record(event) {
  appendFileSync(process.env.TICKTICK_E2E_CONSUMER_LOG, `${JSON.stringify({ at: Date.now(), ...event })}\n`);
}

function describe(session) {
  return session
    ? { id: session.id, account: session.account, scopes: session.scopes, accessToken: session.accessToken }
    : null;
}

exports.activate = (context) => {
  context.subscriptions.push(
    vscode.authentication.onDidChangeSessions(async (event) => {
      if (event.provider.id !== 'ticktick') {
        return;
      }
      // What a consumer does on the event: ask again, without prompting.
      const session = await vscode.authentication.getSession('ticktick', SCOPES, { silent: true });
      record({ kind: 'changed', session: describe(session) });
    }),
    vscode.commands.registerCommand('ticktickConsumer.getSession', async () => {
      try {
        const session = await vscode.authentication.getSession('ticktick', SCOPES, { createIfNone: true });
        record({ kind: 'session', session: describe(session) });
      } catch (error) {
        record({ kind: 'error', message: String(error && error.message ? error.message : error) });
      }
    }),
    // As a consumer's "switch account": forget the account chosen before, so VS Code asks which one.
    vscode.commands.registerCommand('ticktickConsumer.chooseAccount', async () => {
      try {
        const session = await vscode.authentication.getSession('ticktick', SCOPES, {
          createIfNone: true,
          clearSessionPreference: true,
        });
        record({ kind: 'session', session: describe(session) });
      } catch (error) {
        record({ kind: 'error', message: String(error && error.message ? error.message : error) });
      }
    }),
  );
  record({ kind: 'activated' });
};
