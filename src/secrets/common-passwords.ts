/**
 * The most common passwords of at least 8 characters (shorter ones are refused by length
 * already), from the public top-lists of leaked passwords (SecLists "10k most common", NCSC
 * "100k-most-used"), plus obvious product words. Short on purpose: it stops the first guesses
 * of an attacker; it is not a strength meter. Compared in lower case.
 */
export const COMMON_PASSWORDS: ReadonlySet<string> = new Set([
  '12345678', '123456789', '1234567890', '12345678910', '0123456789', '87654321', '987654321',
  '11111111', '00000000', '88888888', '12341234', '11223344', '12121212', '123123123', '1q2w3e4r',
  '1q2w3e4r5t', '1qaz2wsx', 'zaq12wsx', 'qwertyui', 'qwertyuiop', 'qwerty123', 'qwerty12',
  'asdfghjk', 'asdfghjkl', 'zxcvbnm1', 'password', 'password1', 'password12', 'password123',
  'password!', 'passw0rd', 'p@ssw0rd', 'p@ssword', 'pa55word', 'passwort', 'motdepasse',
  'iloveyou', 'iloveyou1', 'sunshine', 'princess', 'football', 'baseball', 'basketball',
  'superman', 'starwars', 'trustno1', 'letmein1', 'letmein!', 'welcome1', 'welcome123',
  'whatever', 'computer', 'internet', 'michelle', 'jennifer', 'jordan23', 'liverpool',
  'chelsea1', 'arsenal1', 'abc12345', 'abcd1234', 'a1b2c3d4', 'aa123456', 'abcdefgh',
  'changeme', 'changeme1', 'changeit', 'admin123', 'admin1234', 'administrator', 'adminadmin',
  'root1234', 'toor1234', 'default1', 'secret12', 'secret123', 'mypassword', 'newpassword',
  'qazwsxedc', 'q1w2e3r4', 'q1w2e3r4t5', 'monkey123', 'dragon12', 'master12', 'shadow12',
  'michael1', 'charlie1', 'blink182', 'pokemon1', 'samsung1', 'google123', 'test1234',
  'testtest', 'test12345', 'guest123', 'dashboard', 'dashboard1', 'dashboard123',
  'documentengine', 'pspdfkit', 'nutrient', 'folio123', 'foliofolio',
])
