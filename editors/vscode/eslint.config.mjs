// ESLint (flat config) for the extension: typescript-eslint's type-checked rules over src/ and test/ (the
// tsconfig project), ESLint's recommended rules over the plain-JavaScript build, benchmark and e2e scripts.
// Formatting is prettier's job (`npm run format:check`), so eslint-config-prettier turns off every rule
// that would fight it.

import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    // Build output, the bundled helper, and the e2e toolchain installed under e2e/ (node_modules, Node 24).
    ignores: ['out/**', 'dist/**', 'bundled/**', '**/node_modules/**', 'e2e/node24/**', '.vscode-test/**'],
  },
  {
    files: ['src/**/*.ts', 'test/**/*.ts'],
    extends: [js.configs.recommended, ...tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // An async function without await is how the launchers and the fakes of VS Code's async API return a
      // promise and turn a throw into a rejection, as the real API does; nothing there was left over.
      '@typescript-eslint/require-await': 'off',
      // `let timer` is declared before the closure that clears it, and set once after code that may call
      // that closure synchronously: a const there would be read before it is initialised.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      // node:test's test()/describe() return promises that the runner itself awaits and reports.
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['test', 'it', 'describe', 'suite'] },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.mjs'],
    extends: [js.configs.recommended],
    languageOptions: { sourceType: 'module', globals: globals.node },
  },
  {
    // bench-activation.js and the e2e consumer extension are CommonJS.
    files: ['**/*.js'],
    extends: [js.configs.recommended],
    languageOptions: { sourceType: 'commonjs', globals: globals.node },
  },
  prettier,
);
