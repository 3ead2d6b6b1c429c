/**
 * A real browser for tests: playwright-core driving Debian's chromium (`.ci/run` installs it;
 * never a downloaded browser, STACK-NOTES §8). Playwright makes its own temporary profile.
 */
import { tmpdir } from 'node:os'
import { execFileSync } from 'node:child_process'
import { mkdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium, type Browser, type Page } from 'playwright-core'

export const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run',
]

export function chromiumPath(): string | undefined {
  try {
    return execFileSync('sh', ['-c', 'command -v chromium'], { encoding: 'utf8' }).trim() || undefined
  } catch {
    return undefined
  }
}

export async function launchBrowser(): Promise<Browser> {
  const executablePath = chromiumPath()
  if (!executablePath) throw new Error('chromium is not installed (apt-get install chromium; .ci/run does it)')
  return chromium.launch({ executablePath, args: CHROMIUM_ARGS, headless: true })
}

/**
 * Where the tests save their screenshots: the run's temp folder, or — with
 * FOLIO_SCREENSHOTS=docs (`FOLIO_SCREENSHOTS=docs npm run test:browser`) — docs/screenshots/,
 * which the README embeds. Not by default, so that `npm test` leaves the work tree clean.
 */
export const SCREENSHOT_DIR = process.env.FOLIO_SCREENSHOTS === 'docs'
  ? join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'docs', 'screenshots')
  : join(process.env.FOLIO_TEST_TMP ?? tmpdir(), 'screenshots')

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true })
  await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}.png`), animations: 'disabled' })
}

/** Collects page errors and console errors, so a test can assert the page ran cleanly. */
export function watchErrors(page: Page): string[] {
  const errors: string[] = []
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`))
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`)
  })
  return errors
}
