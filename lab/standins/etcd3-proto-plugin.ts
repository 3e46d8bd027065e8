// etcd3 reads its .proto files from disk when it loads (`loadSync(`${__dirname}/../proto/rpc.proto`)`),
// which a single-file bundle cannot offer. This esbuild plugin parses the protos at build time and
// rewrites that one call into `fromJSON(<parsed schema>)`, so the bundle carries the schema inline.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Plugin } from 'esbuild';

const require = createRequire(import.meta.url);

const LOAD_CALL = '(0, proto_loader_1.loadSync)(`${__dirname}/../proto/rpc.proto`, {';

/** The etcd3 schema as protobufjs JSON, parsed with the options etcd3 itself passes (keepCase). */
function etcdSchemaJson(etcd3Dir: string): string {
  const util = require(path.join(path.dirname(require.resolve('@grpc/proto-loader')), 'util.js')) as {
    loadProtosWithOptionsSync(file: string, options: object): { toJSON(): object };
  };
  const root = util.loadProtosWithOptionsSync(path.join(etcd3Dir, 'proto', 'rpc.proto'), { keepCase: true });
  return JSON.stringify(root.toJSON());
}

export const inlineEtcd3Protos: Plugin = {
  name: 'inline-etcd3-protos',
  setup(build) {
    build.onLoad({ filter: /[\\/]etcd3[\\/]lib[\\/]connection-pool\.js$/ }, async (args) => {
      const source = await readFile(args.path, 'utf8');
      if (!source.includes(LOAD_CALL)) {
        // A new etcd3 release changed how it loads its protos: fail the build, never ship a broken bundle.
        throw new Error(`${args.path}: expected etcd3 to call ${LOAD_CALL}; update etcd3-proto-plugin.ts`);
      }
      const etcd3Dir = path.resolve(path.dirname(args.path), '..');
      const inline = `(0, proto_loader_1.fromJSON)(${etcdSchemaJson(etcd3Dir)}, {`;
      return { contents: source.replace(LOAD_CALL, inline), loader: 'js' };
    });
  },
};
