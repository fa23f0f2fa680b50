// Vite builds the UI into ui/dist, which the Rust binary embeds (tauri.conf.json frontendDist).
import { defineConfig } from "vite";

export default defineConfig({
  clearScreen: false,
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "safari15",
    sourcemap: false,
  },
  test: {
    include: ["src/**/*.test.ts"],
  },
} as any);
