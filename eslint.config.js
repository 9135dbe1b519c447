// Lint rules for spoolgate. Dependency-direction rules live in src/architecture.test.ts
// (they need the folder graph, which a per-file lint rule cannot see).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'var/**', 'bench/out/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
      'no-empty': ['error', { allowEmptyCatch: false }],
      eqeqeq: ['error', 'always'],
    },
  },
  {
    // R3 item 2: every promise has an error path. `void p()` discards a promise that may reject:
    // an unhandled rejection ends the whole process (every role), as the extended-retry
    // scheduler's `void run().finally()` did. So `void` only on a chain that ends in .catch(...),
    // .then(ok, failed), or .catch(...).finally(...). This syntactic check is cheap; the
    // type-aware @typescript-eslint/no-floating-promises (which also finds un-awaited calls
    // without void) costs about a minute and 550 MB here, so it is `npm run lint:promises`.
    files: ['src/**/*.ts', 'test/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-syntax': ['error', {
        selector: 'UnaryExpression[operator="void"] > CallExpression:not([callee.property.name="catch"]):not([callee.property.name="then"][arguments.length=2]):not([callee.property.name="finally"][callee.object.callee.property.name="catch"])',
        message: 'void discards a promise that may reject (an unhandled rejection ends the process): end the chain with .catch(...) that logs or says why the error cannot happen',
      }, {
        selector: 'UnaryExpression[operator="void"] > ChainExpression > CallExpression',
        message: 'void discards a promise that may reject: call it without ?. and end the chain with .catch(...)',
      }],
    },
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', Buffer: 'readonly' } },
  },
);
