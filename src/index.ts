// The package's programmatic API (what `import ... from 'spoolgate'` gives).
export * from './core/index.js';
