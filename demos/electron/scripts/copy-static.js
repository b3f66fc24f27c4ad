#!/usr/bin/env node
// tsc emits the renderer's script; the page and its style sheet are copied beside it.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const from = path.join(__dirname, '..', 'src', 'renderer');
const to = path.join(__dirname, '..', 'dist', 'renderer');
fs.mkdirSync(to, { recursive: true });
for (const file of ['index.html', 'style.css']) fs.copyFileSync(path.join(from, file), path.join(to, file));
