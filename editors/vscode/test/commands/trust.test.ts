// Restricted Mode and settings a workspace cannot abuse (issue 19 §2, §6): the manifest declares limited
// support in untrusted workspaces and lists every setting that steers a sign-in; the fake `vscode` honours
// a workspace's values as VS Code does (scope and Restricted Mode), and the extension works either way.

import { ExtensionHarness } from '../support/harness';

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';

import { secretKey } from '../../src/commands';
import { Sandbox } from '../support/helper';

interface Manifest {
  extensionKind: string[];
  capabilities: {
    untrustedWorkspaces: { supported: string | boolean; restrictedConfigurations?: string[] };
    virtualWorkspaces: boolean | { supported: boolean };
  };
  contributes: { configuration: { properties: Record<string, { scope?: string }> } };
}

const manifest = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as Manifest;
const properties = manifest.contributes.configuration.properties;

describe('Restricted Mode and workspace settings', () => {
  let sandbox: Sandbox;
  let h: ExtensionHarness | undefined;

  before(async () => {
    sandbox = await Sandbox.start();
  });
  after(async () => {
    await sandbox.stop();
  });
  afterEach(async () => {
    await h?.stop();
    h = undefined;
  });

  it('the manifest supports untrusted workspaces in a limited way, listing every setting a workspace could set', () => {
    const untrusted = manifest.capabilities.untrustedWorkspaces;
    assert.equal(untrusted.supported, 'limited');
    const restricted = new Set(untrusted.restrictedConfigurations);
    for (const [key, property] of Object.entries(properties)) {
      const scope = property.scope ?? 'window';
      if (scope !== 'application' && scope !== 'machine') {
        assert.ok(restricted.has(key), `${key} (scope ${scope}) is not in restrictedConfigurations`);
      }
    }
    for (const key of restricted) {
      assert.ok(key in properties, `restrictedConfigurations names ${key}, which is not a setting`);
    }
    assert.equal(manifest.capabilities.virtualWorkspaces, true);
  });

  it('runs next to the browser when it can (extensionKind ui first, workspace as a fallback), as the built-in providers', () => {
    assert.deepEqual(manifest.extensionKind, ['ui', 'workspace']);
  });

  it('in an untrusted workspace the provider exists, and the workspace cannot steer the sign-in', async () => {
    h = await ExtensionHarness.start(sandbox, {
      untrusted: true,
      workspaceSettings: {
        'ticktick.profile': 'planted',
        'ticktick.clientId': 'planted-app',
        'ticktick.redirectUrl': 'https://attacker.example/callback',
        'ticktick.region': 'dida365',
      },
    });
    assert.ok(h.provider(), 'the ticktick provider is registered in Restricted Mode');
    await h.signInByLoopback();
    const authorize = new URL(h.fake.opened[0]);
    assert.equal(authorize.searchParams.get('client_id'), 'sandbox-client');
    assert.match(authorize.searchParams.get('redirect_uri') ?? '', /^http:\/\/127\.0\.0\.1:\d+\/callback$/);
    const sessions = await h.provider().getSessions();
    assert.deepEqual(
      sessions.map((s) => s.id),
      ['default'],
    );
  });

  it("a trusted workspace's client ID and redirect URL are ignored: only the user's own settings choose the app", async () => {
    for (const key of ['ticktick.clientId', 'ticktick.redirectUrl', 'ticktick.region']) {
      assert.ok(['application', 'machine'].includes(properties[key].scope ?? 'window'), `${key} is window-scoped`);
    }
    h = await ExtensionHarness.start(sandbox, {
      workspaceSettings: {
        'ticktick.clientId': 'planted-app',
        'ticktick.redirectUrl': 'https://attacker.example/callback',
      },
    });
    await h.signInByLoopback();
    const authorize = new URL(h.fake.opened[0]);
    assert.equal(authorize.searchParams.get('client_id'), 'sandbox-client');
    assert.doesNotMatch(authorize.searchParams.get('redirect_uri') ?? '', /attacker/);
  });

  it("after a client ID change, the old app's secret is not sent with the new id: the secret is keyed by both", async () => {
    h = await ExtensionHarness.start(sandbox);
    await h.signInByLoopback();
    assert.equal(await h.context.secrets.get(secretKey('default', 'sandbox-client')), 'sandbox-secret');
    h.fake.setConfig('ticktick.clientId', 'another-app');
    const asked: string[] = [];
    h.fake.answerInput = (input) => {
      asked.push(input.title ?? '');
      return undefined; // Escape: the sign-in stops before anything is sent
    };
    await h.run('ticktick.signIn');
    assert.deepEqual(asked, ['TickTick: Client Secret'], "the new app's secret is asked, not taken from the old app");
    assert.equal(h.fake.opened.length, 1, 'no second sign-in page was opened');
    assert.notEqual(secretKey('a/b', 'c'), secretKey('a', 'b/c'));
  });

  it('the paste setting no longer shares its id with the Paste Redirect URL command', () => {
    const commands = (
      JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as {
        contributes: { commands: { command: string }[] };
      }
    ).contributes.commands.map((c) => c.command);
    for (const key of Object.keys(properties)) {
      assert.ok(!commands.includes(key), `setting ${key} is also a command`);
    }
    assert.ok('ticktick.alwaysPasteRedirectUrl' in properties);
  });

  it('the manifest is true about its engines, and vsce publish rebuilds (vscode:prepublish)', () => {
    const pkg = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as {
      engines: Record<string, string>;
      scripts: Record<string, string>;
      devDependencies: Record<string, string>;
    };
    const minimum = (range: string) => {
      const [major = 0, minor = 0, patch = 0] = (/(\d+)(?:\.(\d+))?(?:\.(\d+))?/.exec(range) ?? [])
        .slice(1)
        .map((part) => Number(part ?? 0));
      return [major, minor, patch];
    };
    const atLeast = (a: number[], b: number[]) =>
      a[0] > b[0] || (a[0] === b[0] && (a[1] > b[1] || (a[1] === b[1] && a[2] >= b[2])));
    // Every dependency's engines (npm ci warns EBADENGINE otherwise) are within ours.
    for (const name of Object.keys(pkg.devDependencies)) {
      let theirs: Record<string, string> | undefined;
      try {
        theirs = (
          JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'node_modules', name, 'package.json'), 'utf8')) as {
            engines?: Record<string, string>;
          }
        ).engines;
      } catch {
        continue;
      }
      for (const engine of ['vscode', 'node'] as const) {
        const need = theirs?.[engine];
        if (need && /^[\^>=~]*\d/.test(need)) {
          assert.ok(pkg.engines[engine], `${name} needs ${engine} ${need}; engines does not say`);
          assert.ok(
            atLeast(minimum(pkg.engines[engine]), minimum(need)),
            `${name} needs ${engine} ${need}, engines says ${pkg.engines[engine]}`,
          );
        }
      }
    }
    assert.match(pkg.scripts['vscode:prepublish'], /npm run build/);
    assert.match(pkg.scripts['vscode:prepublish'], /npm run bundle/);
  });

  it('the manifest has what a Marketplace listing needs: a 128 px PNG icon, banner, preview, changelog, no affiliation', () => {
    const root = join(__dirname, '..', '..', '..');
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      icon: string;
      preview: boolean;
      galleryBanner: { color: string; theme: string };
      description: string;
    };
    const icon = readFileSync(join(root, pkg.icon));
    assert.equal(icon.subarray(1, 4).toString('latin1'), 'PNG');
    assert.deepEqual([icon.readUInt32BE(16), icon.readUInt32BE(20)], [128, 128]);
    assert.equal(pkg.preview, true);
    assert.match(pkg.galleryBanner.color, /^#[0-9A-Fa-f]{6}$/);
    assert.match(pkg.description, /Not affiliated with TickTick\./);
    const ignore = readFileSync(join(root, '.vscodeignore'), 'utf8');
    assert.match(ignore, /^!CHANGELOG\.md$/m);
    assert.match(ignore, new RegExp(`^!${pkg.icon.replace('.', '\\.')}$`, 'm'));
    assert.match(readFileSync(join(root, 'CHANGELOG.md'), 'utf8'), /^# Changelog\n\n## 0\.1\.0/);
    assert.match(readFileSync(join(root, 'README.md'), 'utf8'), /Not affiliated with or endorsed by TickTick/);
  });
});
