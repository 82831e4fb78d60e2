#!/usr/bin/env node
// The npm and npx entry: runs the compiled CLI (npm run build writes dist/).
import "../dist/src/main.js";
