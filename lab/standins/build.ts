// Bundles the stand-ins into single files that need nothing but `node` (20+).
//
// Output directory contract: `<outDir>/gateway.cjs`, `<outDir>/dashboard.cjs`, `<outDir>/upstream.cjs`.
// Each file is self-contained (etcd3's protos are inlined, no node_modules, no sidecar files); run as
// `node gateway.cjs -c /usr/local/apisix/conf/config.yaml`. An optional `VERSION` file next to a bundle
// gives the version reported when the API7_VERSION environment variable is not set.
//
//   npx tsx lab/standins/build.ts <outDir>
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { inlineEtcd3Protos } from './etcd3-proto-plugin.ts';

const here = path.dirname(fileURLToPath(import.meta.url));

export const STANDINS = ['gateway', 'dashboard', 'upstream'] as const;
export type Standin = (typeof STANDINS)[number];

export async function buildStandins(outDir: string): Promise<Record<Standin, string>> {
  await mkdir(outDir, { recursive: true });
  const outputs = {} as Record<Standin, string>;
  for (const name of STANDINS) {
    const outfile = path.resolve(outDir, `${name}.cjs`);
    await build({
      entryPoints: [path.join(here, `${name}.ts`)],
      outfile,
      bundle: true,
      platform: 'node',
      target: 'node20',
      // CommonJS: grpc-js and etcd3 are CommonJS, and `.cjs` keeps node from reading a nearby
      // package.json's "type" into it.
      format: 'cjs',
      minify: true,
      keepNames: true,
      legalComments: 'none',
      logLevel: 'warning',
      plugins: [inlineEtcd3Protos],
    });
    outputs[name] = outfile;
  }
  return outputs;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const outDir = process.argv[2];
  if (!outDir) {
    console.error('usage: npx tsx lab/standins/build.ts <outDir>');
    process.exit(2);
  }
  const files = await buildStandins(outDir);
  for (const file of Object.values(files)) console.log(file);
}
