/**
 * Debian's chromium for the browser tests and benches (never a browser download): installed with apt-get when
 * missing, and the arguments they launch it with.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

export const CHROMIUM = "/usr/bin/chromium";
export const CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"];
/** WebGPU on SwiftShader (chromium's CPU Vulkan): the adapter onnxruntime-web's webgpu backend gets without a GPU. */
export const WEBGPU_ARGS = ["--headless", "--no-sandbox", "--enable-unsafe-webgpu", "--use-webgpu-adapter=swiftshader", "--enable-features=Vulkan", "--no-first-run"];

/**
 * Installs chromium with apt-get when missing (after refreshing the package lists if the first try fails).
 * Returns why it is unavailable, or undefined when it is there.
 */
export function ensureChromium(): string | undefined {
  if (existsSync(CHROMIUM)) return undefined;
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  const apt = (...args: string[]) => spawnSync("apt-get", args, { encoding: "utf8", env, timeout: 600_000 });
  let last = apt("install", "-y", "-qq", "chromium");
  if (!existsSync(CHROMIUM)) {
    apt("update", "-qq");
    last = apt("install", "-y", "-qq", "chromium");
  }
  if (existsSync(CHROMIUM)) return undefined;
  const why = last.error ? last.error.message : (last.stderr || last.stdout || `exit ${last.status}`).trim().split("\n").pop();
  return `chromium is not installed and 'apt-get install chromium' failed: ${why}`;
}
