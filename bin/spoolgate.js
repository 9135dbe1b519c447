#!/usr/bin/env node
// The installed command. Runs the compiled CLI (npm install builds dist/ through "prepare").
import '../dist/cli.js';
