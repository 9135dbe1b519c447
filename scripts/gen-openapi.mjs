#!/usr/bin/env node
// Rewrites docs/openapi.json from src/web/openapi.ts (the document GET /api/v1/openapi.json
// serves); src/web/openapi.test.ts fails while the two differ.
// Usage: node --import tsx scripts/gen-openapi.mjs     (commit docs/openapi.json)
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const { OPENAPI_JSON } = await import(join(ROOT, 'src/web/openapi.ts'));
writeFileSync(join(ROOT, 'docs/openapi.json'), OPENAPI_JSON);
console.log('wrote docs/openapi.json');
