#!/usr/bin/env node
// Rewrites man/spoolgate.1 (from the command table that --help prints, src/cli/commands.ts) and
// man/spoolgate.conf.5 (from docs/configuration.md) with src/cli/man.ts; src/cli/man.test.ts fails
// while the committed pages differ from what this makes.
// Usage: node --import tsx scripts/gen-man.mjs     (commit man/)
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const { spoolgateManPage, confManPage } = await import(join(ROOT, 'src/cli/man.ts'));
const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
mkdirSync(join(ROOT, 'man'), { recursive: true });
writeFileSync(join(ROOT, 'man/spoolgate.1'), spoolgateManPage(version));
writeFileSync(join(ROOT, 'man/spoolgate.conf.5'), confManPage(readFileSync(join(ROOT, 'docs/configuration.md'), 'utf8'), version));
console.log('wrote man/spoolgate.1 and man/spoolgate.conf.5');
