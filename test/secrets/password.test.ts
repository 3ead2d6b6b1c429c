import assert from 'node:assert/strict'
import { test } from 'node:test'
import { hashPassword, isCommonPassword, verifyPassword } from '../../src/secrets/password.js'

test('a dashboard password is stored as a salted scrypt hash that verifies only the same password', async () => {
  const h1 = await hashPassword('correct horse battery')
  const h2 = await hashPassword('correct horse battery')
  assert.match(h1, /^scrypt\$15\$8\$1\$[A-Za-z0-9_-]+\$[A-Za-z0-9_-]+$/)
  assert.notEqual(h1, h2, 'a fresh salt each time')
  assert.ok(!h1.includes('correct'))
  assert.equal(await verifyPassword('correct horse battery', h1), true)
  assert.equal(await verifyPassword('correct horse batterY', h1), false)
  assert.equal(await verifyPassword('correct horse battery', 'not-a-hash'), false)
  assert.equal(await verifyPassword('x', 'scrypt$30$8$1$AA$AA'), false, 'absurd parameters are not run')
})

test('the most common passwords and one repeated character are refused, case-insensitively', () => {
  for (const p of ['password', 'Password1', 'QWERTYUIOP', '12345678', 'iloveyou', 'aaaaaaaa', 'zzzzzzzzzzzz']) assert.equal(isCommonPassword(p), true, p)
  for (const p of ['correct horse battery', 'Tr0ub4dor&3x', 'folio-dashboard-7g2k']) assert.equal(isCommonPassword(p), false, p)
})
