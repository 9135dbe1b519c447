// Type-aware check that every promise is awaited, returned or handled (`npm run lint:promises`,
// about a minute): @typescript-eslint/no-floating-promises. `void p` is left to the cheap
// syntactic rule in eslint.config.js (void only on a .catch chain, or with a reason).
// Test files are left out: node:test's test() returns a promise that the runner handles.
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'var/**', 'bench/**', 'coverage/**', '**/*.js', '**/*.mjs', '**/*.test.ts'] },
  {
    files: ['src/**/*.ts', 'test/**/*.ts'],
    languageOptions: { parser: tseslint.parser, parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    plugins: { '@typescript-eslint': tseslint.plugin },
    linterOptions: { reportUnusedDisableDirectives: 'off' },
    rules: { '@typescript-eslint/no-floating-promises': 'error' },
  },
);
