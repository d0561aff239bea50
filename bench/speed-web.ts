/**
 * The web page's time from a file being chosen to its report being drawn, in Debian's chromium driven by
 * playwright-core (as test/browser.test.ts runs it): the clock starts in a capturing `change` listener on the
 * file input and stops at the first animation frame after the status says "ready" (the report is in the DOM).
 * The page starts its worker when it opens, and each run chooses the file again after the previous run's batch
 * sweep has finished.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { chromium } from "playwright-core";
import { startServer } from "../src/cli/serve.js";
import { CHROMIUM, CHROMIUM_ARGS } from "./chromium.js";
import { REPO_ROOT } from "./shared.js";


/** Milliseconds of each run (the first one included: a user's first drop is a cold one), or why there are none. */
export async function pageTimes(model: string, runs: number, tmpFile: string): Promise<number[] | string> {
  if (!existsSync(CHROMIUM)) return `${CHROMIUM} is missing (apt-get install chromium)`;
  const build = (await import(pathToFileURL(join(REPO_ROOT, "scripts", "build-web.mjs")).href)) as { buildWeb(out: string): Promise<{ out: string }> };
  const built = await build.buildWeb(tmpFile);
  const served = await startServer(readFileSync(built.out));
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  try {
    const page = await browser.newPage();
    await page.goto(served.url);
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      await page.evaluate(() => {
        const w = window as unknown as { __t0?: number; __done?: Promise<number> };
        const file = document.getElementById("file") as HTMLInputElement;
        const status = document.getElementById("status")!;
        // Choosing the same file again must be a change: clear the input first.
        file.value = "";
        delete status.dataset["state"];
        w.__done = new Promise((resolve, reject) => {
          file.addEventListener("change", () => (w.__t0 = performance.now()), { capture: true, once: true });
          const seen = new MutationObserver(() => {
            const state = status.dataset["state"];
            if (state === "error") {
              seen.disconnect();
              reject(new Error(`the page says: ${status.textContent ?? ""}`));
            }
            if (state !== "ready") return;
            seen.disconnect();
            requestAnimationFrame(() => resolve(performance.now() - (w.__t0 ?? Number.NaN)));
          });
          seen.observe(status, { attributes: true, attributeFilter: ["data-state"] });
          setTimeout(() => reject(new Error(`no report after 60 s (status: ${status.dataset["state"] ?? "none"}: ${status.textContent ?? ""})`)), 60_000);
        });
      });
      await page.setInputFiles("#file", model);
      times.push(await page.evaluate(() => (window as unknown as { __done: Promise<number> }).__done));
      // The page sweeps the batch after the report; the next file is chosen once it is done, as a user would.
      await page.waitForSelector('[data-sweep="done"]', { timeout: 120_000 });
    }
    return times;
  } finally {
    await browser.close();
    await served.close();
  }
}
