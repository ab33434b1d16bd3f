// The explorer is served by mlledger at /ui; `npm run build` writes ui/dist, which the service
// mounts (scripts/bootstrap runs the build).
import { defineConfig } from "vite";

export default defineConfig({
  base: "/ui/",
  build: { outDir: "dist", emptyOutDir: true, chunkSizeWarningLimit: 1500 },
  server: { proxy: { "/graphql": "http://127.0.0.1:8080" } },
});
