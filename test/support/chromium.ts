import { existsSync } from 'node:fs'
import { chromium, type Browser } from 'playwright-core'

/** Where the tests expect Chromium (Debian's package). */
export const CHROMIUM = '/usr/bin/chromium'

/** Why Chromium cannot be used, or undefined when it can (for `requireService`). */
export function chromiumMissing(): string | undefined {
  return existsSync(CHROMIUM) ? undefined : `no Chromium at ${CHROMIUM} (apt-get install chromium)`
}

/**
 * Launches Debian's Chromium headless through playwright-core, with no sandbox (containers have
 * no user namespaces), no GPU, and nothing that reaches the network by itself.
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  })
}
