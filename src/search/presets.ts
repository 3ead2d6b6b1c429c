/**
 * The search presets of Document Engine's reference (`SearchPreset`), as JavaScript regular
 * expressions written so that every repetition starts with a distinct character (no nested
 * ambiguous quantifiers): linear in practice. They still run in a match worker with the time
 * limit, like client patterns. The descriptions quoted are the reference's.
 */
const OCTET = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)'
const H16 = '[0-9A-Fa-f]{1,4}'
const IPV4 = `${OCTET}(?:\\.${OCTET}){3}`
/** RFC 4291 §2.2 forms (full, compressed, with an embedded IPv4), longest alternatives first. */
const IPV6 = [
  `(?:${H16}:){7}${H16}`,
  `(?:${H16}:){6}${IPV4}`,
  `(?:${H16}:){1,7}:`,
  `(?:${H16}:){1,6}:${H16}`,
  `(?:${H16}:){1,5}(?::${H16}){1,2}`,
  `(?:${H16}:){1,4}(?::${H16}){1,3}`,
  `(?:${H16}:){1,3}(?::${H16}){1,4}`,
  `(?:${H16}:){1,2}(?::${H16}){1,5}`,
  `${H16}:(?::${H16}){1,6}`,
  `:(?:(?::${H16}){1,7}|:)`,
].join('|')
const DAY = '(?:0?[1-9]|[12]\\d|3[01])'
const MONTH = '(?:0?[1-9]|1[0-2])'

export const SEARCH_PRESETS = {
  /** "a number with 13 to 19 digits that begins with 1—6. Spaces and - are allowed anywhere" */
  'credit-card-number': '(?<![\\d-])[1-6](?:[ -]?\\d){12,18}(?![\\d])',
  /** "mm/dd/yyyy, mm/dd/yy, dd/mm/yyyy, and dd/mm/yy … The delimiter can be -, ., or /" */
  date: `(?<!\\d)(?:${MONTH}([-./])${DAY}\\1|${DAY}([-./])${MONTH}\\2)(?:\\d{4}|\\d{2})(?!\\d)`,
  /** "*@*.* with at least two levels of the domain name" */
  'email-address': '[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\\.[A-Za-z0-9-]+)+',
  /** "7 to 15 digits with spaces or - anywhere … prefix of + or 00" */
  'international-phone-number': '(?:\\+|(?<!\\d)00)\\d(?:[ -]?\\d){6,14}(?!\\d)',
  /** "an IPv4 address with an optional mask at the end" */
  ipv4: `(?<![\\d.])${IPV4}(?:\\/(?:3[0-2]|[12]?\\d))?(?![\\d.]*\\d)`,
  /** "a full and compressed IPv6 address" */
  ipv6: `(?<![0-9A-Fa-f:])(?:${IPV6})(?![0-9A-Fa-f:])`,
  /** "a MAC address with either - or : as a delimiter" */
  'mac-address': '(?<![0-9A-Fa-f:-])[0-9A-Fa-f]{2}([:-])[0-9A-Fa-f]{2}(?:\\1[0-9A-Fa-f]{2}){4}(?![0-9A-Fa-f:-])',
  /** "North American-style phone numbers (NANPA) with international support" */
  'north-american-phone-number': '(?:\\+?1[ .-]?)?(?:\\(\\d{3}\\)|(?<!\\d)\\d{3})[ .-]?\\d{3}[ .-]?\\d{4}(?!\\d)',
  /** "XXX-XX-XXXX or XXXXXXXXX" */
  'social-security-number': '(?<!\\d)(?:\\d{3}-\\d{2}-\\d{4}|\\d{9})(?!\\d)',
  /** "00:00:00, 00:00, and 00:00 PM. 12- and 24-hour formats … seconds and AM/PM optional" */
  time: '(?<!\\d)(?:[01]?\\d|2[0-3]):[0-5]\\d(?::[0-5]\\d)?(?: ?[AaPp][Mm])?(?![\\d])',
  /** "a URL with a prefix of http or https, with an optional subdomain" */
  url: 'https?:\\/\\/[A-Za-z0-9-]+(?:\\.[A-Za-z0-9-]+)+(?::\\d{1,5})?(?:[/?#][^\\s]*)?',
  /** "XXXXX, XXXXX-XXXX or XXXXX/XXXX" */
  'us-zip-code': '(?<![\\d/-])\\d{5}(?:[-/]\\d{4})?(?![\\d/-])',
  /** "17 characters, with the last 5 characters being numeric. I, i, O, o, Q, q, and _ not allowed" */
  vin: '(?<![A-Za-z0-9])[A-HJ-NPR-Za-hj-npr-z0-9]{12}\\d{5}(?![A-Za-z0-9])',
} as const

export type SearchPreset = keyof typeof SEARCH_PRESETS
export const PRESET_NAMES = Object.keys(SEARCH_PRESETS) as SearchPreset[]

export function isPreset(name: string): name is SearchPreset {
  return Object.prototype.hasOwnProperty.call(SEARCH_PRESETS, name)
}
