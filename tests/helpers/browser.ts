/**
 * Real-browser helpers for the dashboard's tests: Debian's Chromium driven by playwright-core.
 * Without a Chromium the browser tests show as ignored (never as passed) and one line says how
 * to install it; with TAU_REQUIRE_BROWSER=1 (CI sets it) a missing Chromium fails them instead.
 */
import { fileURLToPath } from "node:url";
import { type Browser, chromium, type Page } from "playwright-core";
import { assert } from "./assert.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
/** Where {@link screenshot} writes: git-ignored, beside the other test output. */
export const SCREENSHOTS = `${ROOT}.tau-test/screenshots/`;

const CANDIDATES = ["/usr/bin/chromium", "/usr/bin/chromium-browser"];

function isFile(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

/** TAU_CHROMIUM when set (and only it, so a wrong path is noticed), else Debian's paths. */
function findChromium(): string | null {
  const chosen = Deno.env.get("TAU_CHROMIUM");
  if (chosen) return isFile(chosen) ? chosen : null;
  return CANDIDATES.find(isFile) ?? null;
}

/** The Chromium the tests drive, or null when this machine has none. */
export const CHROMIUM: string | null = findChromium();
/** Whether a browser exists to run the browser tests. */
export const HAS_BROWSER = CHROMIUM !== null;
/** Set by CI: a missing Chromium fails the browser tests instead of skipping them. */
export const BROWSER_REQUIRED = Deno.env.get("TAU_REQUIRE_BROWSER") === "1";

/** What to do about a missing Chromium, in one line. */
export const NO_BROWSER = Deno.env.get("TAU_CHROMIUM")
  ? `TAU_CHROMIUM is ${Deno.env.get("TAU_CHROMIUM")}, which is not a file: ` +
    "point it at a Chromium, or unset it and run apt-get install chromium"
  : `no Chromium at ${CANDIDATES.join(" or ")}: install it with apt-get install chromium ` +
    "(or set TAU_CHROMIUM to its path)";

let told = false;

/**
 * Whether this machine's browser tests are ignored: no Chromium and no TAU_REQUIRE_BROWSER=1.
 * Then one line says how to install it; pass it as `Deno.test`'s `ignore`, so the tests show as
 * ignored, never as passed.
 */
export function ignoreBrowserTests(): boolean {
  const ignore = !HAS_BROWSER && !BROWSER_REQUIRED;
  if (ignore && !told) console.log(`browser tests ignored: ${NO_BROWSER}`);
  told ||= ignore;
  return ignore;
}

/**
 * Chromium, headless, with nothing of its own going to the network. Without one (reached only
 * when TAU_REQUIRE_BROWSER=1, see {@link ignoreBrowserTests}) it throws saying how to install it.
 */
export async function launchBrowser(): Promise<Browser> {
  if (!CHROMIUM) {
    throw new Error(BROWSER_REQUIRED ? `TAU_REQUIRE_BROWSER=1 but ${NO_BROWSER}` : NO_BROWSER);
  }
  return await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

/** Logs in through the dashboard's own form at `origin`, and waits for the overview. */
export async function logIn(page: Page, origin: string, key: string): Promise<void> {
  await page.goto(`${origin}/`);
  const form = page.locator('form[action="/login"]');
  await form.locator("input[name=key][type=password]").fill(key);
  const [posted] = await Promise.all([
    page.waitForResponse((r) => r.url() === `${origin}/login` && r.request().method() === "POST"),
    // The next document's load: the overview after the redirect, or the form again.
    page.waitForEvent("load"),
    form.locator('button[type="submit"]').click(),
  ]);
  const alert = await page.locator('[role="alert"]').allTextContents();
  assert.equal(posted.status(), 303, `the login was refused: ${alert.join(" ")}`);
  assert.equal(page.url(), `${origin}/`);
  assert.equal(await page.locator('form[action="/login"]').count(), 0, "the login form is gone");
}

/** What a page did that a page of escaped data never should. */
export interface PageEvents {
  /** alert/confirm/prompt texts (each dialog is dismissed). */
  dialogs: string[];
  /** Uncaught exceptions in the page. */
  pageErrors: string[];
  /** Console errors about the Content-Security-Policy: something tried to run or load. */
  cspViolations: string[];
  /** Every console error, those above included (a 404 is one). */
  consoleErrors: string[];
  /** Requests to any origin but the dashboard's. */
  foreign: string[];
}

/** Records `page`'s dialogs, errors and foreign requests; `take()` returns and clears them. */
export function watchPage(page: Page, origin: string): { take(): PageEvents } {
  let events = empty();
  page.on("dialog", (dialog) => {
    events.dialogs.push(`${dialog.type()}: ${dialog.message()}`);
    dialog.dismiss().catch(() => {});
  });
  page.on("pageerror", (err) => events.pageErrors.push(err.message));
  page.on("console", (message) => {
    if (message.type() !== "error") return;
    events.consoleErrors.push(message.text());
    if (/Content Security Policy/i.test(message.text())) {
      events.cspViolations.push(message.text());
    }
  });
  page.on("request", (request) => {
    const url = request.url();
    if (!url.startsWith(`${origin}/`) && !url.startsWith("data:")) events.foreign.push(url);
  });
  return {
    take() {
      const taken = events;
      events = empty();
      return taken;
    },
  };
}

function empty(): PageEvents {
  return { dialogs: [], pageErrors: [], cspViolations: [], consoleErrors: [], foreign: [] };
}

/** Fails when the page ran or tried to run anything (a dialog, an error, a CSP violation). */
export function assertNothingRan(events: PageEvents, where: string): void {
  const ran = {
    dialogs: events.dialogs,
    pageErrors: events.pageErrors,
    cspViolations: events.cspViolations,
    foreign: events.foreign,
  };
  assert.deepStrictEqual(
    ran,
    { dialogs: [], pageErrors: [], cspViolations: [], foreign: [] },
    `${where}: something ran (console errors: ${JSON.stringify(events.consoleErrors)})`,
  );
}

/** A full-page screenshot at .tau-test/screenshots/NAME.png; returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  await Deno.mkdir(SCREENSHOTS, { recursive: true });
  const path = `${SCREENSHOTS}${name}.png`;
  await page.screenshot({ path, fullPage: true });
  return path;
}
