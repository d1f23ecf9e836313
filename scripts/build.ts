// npm run build — what a function's image runs: one JavaScript file per function (esbuild), written to
// build/functions/<system>/<function>/index.js, served by the faas-js-runtime CLI. One file loads faster and
// smaller than hundreds of modules resolved one by one at every cold start (bench row 4 measures it).
//
// Left outside the bundle, loaded from node_modules in the image: the runtime itself (it loads the file), what
// the runtime has loaded already (ajv, prom-client), the packages OpenTelemetry instruments by hooking require
// (pg, kafkajs), and Prisma's query compiler (a large WebAssembly module in base64, loaded once while the
// function warms up rather than parsed with the code).
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { loadManifests, ROOT } from './lib/manifests';

export const BUILD_DIR = path.join(ROOT, 'build');

export const EXTERNAL = [
  'faas-js-runtime', 'pg', 'pg-native', 'kafkajs',
  // The runtime has loaded these very copies already (npm dedupes them): bundled, they would load twice.
  'ajv', 'ajv/*', 'prom-client',
  '@opentelemetry/*', '@prisma/instrumentation',
  '@prisma/client/runtime/query_compiler_*',
];

/** Bundles the given function folders (default: every function in knative/) into `outDir`. */
export async function buildFunctions(functionDirs = loadManifests().services.map((s) => s.functionDir), outDir = BUILD_DIR): Promise<string[]> {
  const entries = functionDirs.map((dir) => path.join(dir, 'index.ts'));
  // The image's --require: starts tracing before the runtime and the function load what it instruments.
  await bundle([...entries, 'functions/shared/telemetry-preload.ts'], outDir);
  return functionDirs.map((dir) => path.join(outDir, dir, 'index.js'));
}

/** Bundles source files (paths from the project root) as the image's functions are, each to <outDir>/<path>.js. */
export async function bundle(sources: string[], outDir: string): Promise<void> {
  await build({
    entryPoints: Object.fromEntries(sources.map((s) => [s.replace(/\.ts$/, ''), path.join(ROOT, s)])),
    outdir: outDir,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    // Whitespace and syntax only: identifiers keep their names, so stack traces read without source maps, and
    // no keepNames wrapper runs each time a closure is made.
    minifyWhitespace: true,
    minifySyntax: true,
    external: EXTERNAL,
    // import() of a package becomes require(): Prisma loads its query compiler (2 MB of base64 in a CommonJS
    // file) that way, and Node's ESM loader would scan the whole file for its exports first.
    supported: { 'dynamic-import': false },
    logLevel: 'warning',
  });
}

if (require.main === module) {
  rmSync(BUILD_DIR, { recursive: true, force: true });
  buildFunctions()
    .then((files) => console.log(`built ${files.length} functions into ${path.relative(ROOT, BUILD_DIR)}/`))
    .catch((err) => {
      console.error(err instanceof Error ? err.message : err);
      process.exit(1);
    });
}
