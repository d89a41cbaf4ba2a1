/// <reference types="vitest/config" />
// Builds frontend/ into frontend/dist, which Litestar serves (server/app.py). The manifest lets a
// test add up what the first page load costs.
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

const root = fileURLToPath(new URL(".", import.meta.url));

export default defineConfig({
  root,
  publicDir: false,
  build: {
    outDir: "dist",
    emptyOutDir: true,
    manifest: true,
    target: "es2022",
    // Source maps are not shipped: the assets are small and the CSP allows nothing extra.
    sourcemap: false,
  },
  test: {
    environment: "happy-dom",
    include: ["src/**/*.test.{ts,tsx}"],
  },
});
