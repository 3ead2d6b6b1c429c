#!/usr/bin/env node
// tsc compiles .ts only; copy the SQL migrations next to the compiled code.
import { cpSync, mkdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
const root = fileURLToPath(new URL('..', import.meta.url))
mkdirSync(`${root}dist/src/db/migrations`, { recursive: true })
cpSync(`${root}src/db/migrations`, `${root}dist/src/db/migrations`, { recursive: true })
