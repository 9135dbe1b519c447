// Type-aware check that every promise is awaited or handled (`npm run lint:promises`, about a
// minute): @typescript-eslint/no-floating-promises with `void` not accepted as handling. The
// cheap syntactic half of it (`void` only on a .catch chain) runs in eslint.config.js.
// Test files are left out: node:test's test() returns a promise that the runner handles.
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'var/**', 'bench/**', 'coverage/**', '**/*.js', '**/*.mjs', '**/*.test.ts'] },
  {
    files: ['src/**/*.ts', 'test/**/*.ts'],
    languageOptions: { parser: tseslint.parser, parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    plugins: { '@typescript-eslint': tseslint.plugin },
    linterOptions: { reportUnusedDisableDirectives: 'off' },
    rules: { '@typescript-eslint/no-floating-promises': ['error', { ignoreVoid: false }] },
  },
);
