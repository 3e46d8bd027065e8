// etcd3 reads its .proto files from disk when it loads (`loadSync(`${__dirname}/../proto/rpc.proto`)`),
// which a single-file bundle cannot offer. This esbuild plugin parses the protos at build time, inlines
// the schema as JSON, and swaps @grpc/proto-loader for our lean grpc-package-definition.ts.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Plugin } from 'esbuild';
import protobuf from 'protobufjs';

const LOADER_REQUIRE = 'require("@grpc/proto-loader")';
const LOAD_CALL = '(0, proto_loader_1.loadSync)(`${__dirname}/../proto/rpc.proto`, {';
const leanLoader = fileURLToPath(new URL('./grpc-package-definition.ts', import.meta.url));

/** The etcd3 schema as protobufjs JSON, parsed with the option etcd3 passes (keepCase). */
function etcdSchemaJson(etcd3Dir: string): string {
  const root = new protobuf.Root().loadSync(path.join(etcd3Dir, 'proto', 'rpc.proto'), { keepCase: true });
  return JSON.stringify(root.toJSON());
}

export const inlineEtcd3Protos: Plugin = {
  name: 'inline-etcd3-protos',
  setup(build) {
    build.onLoad({ filter: /[\\/]etcd3[\\/]lib[\\/]connection-pool\.js$/ }, async (args) => {
      const source = await readFile(args.path, 'utf8');
      for (const expected of [LOADER_REQUIRE, LOAD_CALL]) {
        // A new etcd3 release changed how it loads its protos: fail the build, never ship a broken bundle.
        if (!source.includes(expected)) throw new Error(`${args.path}: expected etcd3 to contain ${expected}; update etcd3-proto-plugin.ts`);
      }
      const etcd3Dir = path.resolve(path.dirname(args.path), '..');
      const contents = source
        .replace(LOADER_REQUIRE, `require(${JSON.stringify(leanLoader)})`)
        .replace(LOAD_CALL, `(0, proto_loader_1.fromJSON)(${etcdSchemaJson(etcd3Dir)}, {`);
      return { contents, loader: 'js' };
    });
  },
};
